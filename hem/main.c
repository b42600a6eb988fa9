/* main.c -- hem's command line: run the daemon in the foreground, or check its configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "config.h"
#include "confsource.h"
#include "hem.h"
#include "hemmetrics.h"
#include "log.h"
#include "signals.h"

#define DEFAULT_CONFIG HB_CONFIG_DIR "/hem.conf"

static void usage(FILE *out)
{
	fputs("usage: hem [-c FILE] [--check-config] [--KEY VALUE]...\n"
	      "       hem --version | --help\n"
	      "Runs the hook execution manager in the foreground.  -c names the config file\n"
	      "(default " DEFAULT_CONFIG ", used when it exists); any config key may be given\n"
	      "as a flag, e.g. --database /tmp/hem.db --control-endpoint ipc:///tmp/hem.sock.\n"
	      "--check-config validates the configuration and exits.\n", out);
}

int main(int argc, char **argv)
{
	hb_config *cfg = NULL;
	hb_error err = { 0 };
	bool check = false;
	int64_t level = 2;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			puts("hem " HB_VERSION);
			return 0;
		}
	}
	rc = hb_config_from_argv(argc, argv, hb_hem_config_keys, DEFAULT_CONFIG, &cfg, &check, &err);
	if (rc == 0)
		rc = hb_hem_check(cfg, &err);
	if (rc == 0)
		rc = hem_metrics_check(cfg, &err);
	if (rc < 0) {
		fprintf(stderr, "hem: configuration: %s\n", err.msg);
		hb_config_free(cfg);
		return 2;
	}
	if (check) {
		puts("configuration OK");
		hb_config_free(cfg);
		return 0;
	}
	hb_config_int(cfg, "DEBUG_LEVEL", 0, 3, &level, &err);
	if (hb_log_open(hb_config_str(cfg, "LOG"), (int)level, "hem", &err) < 0) {
		fprintf(stderr, "hem: %s\n", err.msg);
		hb_config_free(cfg);
		return 2;
	}
	hb_config_source_set(argc, argv, hb_hem_config_keys, DEFAULT_CONFIG);
	hb_signals_install();
	rc = hb_hem_run(cfg, &err);
	if (rc < 0) {
		hb_log(HB_LOG_ERROR, "%s", err.msg);
		fprintf(stderr, "hem: %s\n", err.msg);
	}
	hb_log_close();
	hb_config_free(cfg);
	xmlCleanupParser();
	return rc < 0 ? 1 : 0;
}
