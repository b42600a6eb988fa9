/* ctlparse.c -- checks the frames of one control API request and turns them into a hem_ctl_request. */
#include "ctlparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The frames after the verb. */
struct args {
	const char *const *f;
	const size_t *len;
	size_t n;
};

/* Copies argument i into buf (truncated to size - 1 bytes) as a string. */
static const char *arg(const struct args *a, size_t i, char *buf, size_t size)
{
	size_t n = a->len[i];

	if (n >= size)
		n = size - 1;
	memcpy(buf, a->f[i], n);
	buf[n] = '\0';
	return buf;
}

/* Parses argument i as a non-negative id named what. */
static int arg_id(const struct args *a, size_t i, const char *what, int64_t *out, hb_error *err)
{
	char buf[32], *end;
	const char *s;
	long long v;

	if (i >= a->n)
		return hb_error_set(err, -HB_EINVAL, "missing %s", what);
	s = arg(a, i, buf, sizeof(buf));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || a->len[i] >= sizeof(buf) || memchr(a->f[i], '\0', a->len[i]))
		return hb_error_set(err, -HB_EINVAL, "%s must be a non-negative integer, not '%s'", what, s);
	*out = v;
	return 0;
}

/* Parses argument i as any integer. */
static int arg_int(const struct args *a, size_t i, int64_t *out, hb_error *err)
{
	char buf[32], *end;
	const char *s = arg(a, i, buf, sizeof(buf));
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || a->len[i] >= sizeof(buf) || memchr(a->f[i], '\0', a->len[i]))
		return hb_error_set(err, -HB_EINVAL, "'%s' is not a number", s);
	*out = v;
	return 0;
}

static bool is(const char *frame, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(frame, s, len) == 0;
}

static int parse_log(const struct args *a, hem_ctl_request *q, hb_error *err)
{
	char buf[16];

	q->filter = (hb_log_filter){ .hook_id = -1, .since = -1, .until = -1, .limit = -1 };
	if (a->n != 4)
		return hb_error_set(err, -HB_EINVAL, "LOG takes since, until, hook id and all|success|error");
	if (arg_int(a, 0, &q->filter.since, err) < 0 || arg_int(a, 1, &q->filter.until, err) < 0 ||
	    arg_int(a, 2, &q->filter.hook_id, err) < 0)
		return err->code;
	if (is(a->f[3], a->len[3], "success"))
		q->filter.success_only = true;
	else if (is(a->f[3], a->len[3], "error"))
		q->filter.error_only = true;
	else if (!is(a->f[3], a->len[3], "all"))
		return hb_error_set(err, -HB_EINVAL, "LOG filter must be all, success or error, not '%s'",
				    arg(a, 3, buf, sizeof(buf)));
	return 0;
}

int hem_ctl_parse(const char *const *frames, const size_t *lens, size_t n, hem_ctl_request *q, hb_error *err)
{
	static const struct {
		const char *verb;
		hem_ctl_verb v;
		size_t min_args;
	} verbs[] = {
		{ "ALLOCATE", HEM_CTL_ALLOCATE, 1 }, { "INFO", HEM_CTL_INFO, 1 }, { "POOL", HEM_CTL_POOL, 0 },
		{ "UPDATE", HEM_CTL_UPDATE, 2 }, { "RENAME", HEM_CTL_RENAME, 2 }, { "DELETE", HEM_CTL_DELETE, 1 },
		{ "RETRY", HEM_CTL_RETRY, 2 }, { "LOG", HEM_CTL_LOG, 4 }, { "LOCK", HEM_CTL_LOCK, 1 },
		{ "UNLOCK", HEM_CTL_UNLOCK, 1 }, { "VERDICT", HEM_CTL_VERDICT, 2 },
	};
	struct args a = { frames + 1, lens + 1, n ? n - 1 : 0 };
	size_t i;

	memset(q, 0, sizeof(*q));
	q->exec_id = -1;
	if (n == 0)
		return hb_error_set(err, -HB_EINVAL, "empty request");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (is(frames[0], lens[0], verbs[i].verb))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return hb_error_set(err, -HB_EINVAL, "unknown request");
	q->verb = verbs[i].v;
	if (a.n < verbs[i].min_args) {
		if (q->verb == HEM_CTL_LOCK || q->verb == HEM_CTL_UNLOCK)
			return hb_error_set(err, -HB_EINVAL, "%s takes a hook id", verbs[i].verb);
		return hb_error_set(err, -HB_EINVAL, "%s takes %zu argument(s)", verbs[i].verb, verbs[i].min_args);
	}
	switch (q->verb) {
	case HEM_CTL_ALLOCATE:
		q->text = a.f[0];
		q->text_len = a.len[0];
		return 0;
	case HEM_CTL_POOL:
		return 0;
	case HEM_CTL_LOG:
		return parse_log(&a, q, err);
	case HEM_CTL_VERDICT:
		if (arg_id(&a, 0, "sequence number", &q->seq, err) < 0 ||
		    arg_id(&a, 1, "timeout in milliseconds", &q->timeout_ms, err) < 0)
			return err->code;
		if (q->timeout_ms > HEM_CTL_VERDICT_TIMEOUT_MAX)
			return hb_error_set(err, -HB_EINVAL, "VERDICT timeout must be at most %d ms",
					    HEM_CTL_VERDICT_TIMEOUT_MAX);
		return 0;
	default:
		break;
	}
	if (arg_id(&a, 0, "hook id", &q->id, err) < 0)
		return err->code;
	switch (q->verb) {
	case HEM_CTL_INFO:
		return a.n > 1 ? arg_id(&a, 1, "execution id", &q->exec_id, err) : 0;
	case HEM_CTL_RETRY:
		return arg_id(&a, 1, "execution id", &q->exec_id, err);
	case HEM_CTL_UPDATE:
		q->text = a.f[1];
		q->text_len = a.len[1];
		q->append = a.n > 2 && is(a.f[2], a.len[2], "1");
		return 0;
	case HEM_CTL_RENAME:
		if (a.len[1] > HEM_CTL_NAME_MAX || memchr(a.f[1], '\0', a.len[1]) != NULL)
			return hb_error_set(err, -HB_EINVAL, "the new name is longer than %d bytes or holds a NUL",
					    HEM_CTL_NAME_MAX);
		arg(&a, 1, q->name, sizeof(q->name));
		return 0;
	case HEM_CTL_LOCK:
		q->level = 1;
		if (a.n > 1 && arg_int(&a, 1, &q->level, err) < 0)
			return err->code;
		if (q->level < 1 || q->level > 4)
			return hb_error_set(err, -HB_EINVAL, "lock level must be 1 (use), 2 (manage), 3 (admin) or 4 (all)");
		return 0;
	default:
		return 0;
	}
}
