/* test_fault.c -- proves the HB_FAULT test seam: a point fires on its Nth pass only, values are read, malformed entries are ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "fault.h"

static void test_fault_points(void **state)
{
	(void)state;
	/* Read once, at the first call: set before anything asks. */
	setenv("HB_FAULT", "third:3,pages:42,bad,:7,novalue:,x:1y,last:1", 1);
	assert_false(hb_fault_hit("third"));
	assert_false(hb_fault_hit("third"));
	assert_true(hb_fault_hit("third"));
	assert_false(hb_fault_hit("third"));
	assert_int_equal(hb_fault_value("pages"), 42);
	assert_int_equal(hb_fault_value("absent"), -1);
	assert_false(hb_fault_hit("absent"));
	assert_int_equal(hb_fault_value("bad"), -1);
	assert_int_equal(hb_fault_value("novalue"), -1);
	assert_int_equal(hb_fault_value("x"), -1);
	assert_true(hb_fault_hit("last"));
	setenv("HB_FAULT", "absent:1", 1);
	assert_false(hb_fault_hit("absent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
