/* stamp.c -- a benchmark hook: appends "<HOOK_SEQ> <CLOCK_REALTIME ns>" to the file named by argv[1]. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	const char *seq = getenv("HOOK_SEQ");
	char line[96];
	int fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	n = snprintf(line, sizeof(line), "%s %lld\n", seq && *seq ? seq : "-",
		     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (write(fd, line, (size_t)n) != n)
		return 1;
	return close(fd) == 0 ? 0 : 1;
}
