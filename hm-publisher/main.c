/* main.c -- hm-publisher's command line: serve, emit, oci-hook, install-oci-hook, and the configuration check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "config.h"
#include "confsource.h"
#include "curve.h"
#include "emit.h"
#include "log.h"
#include "metrics_http.h"
#include "oci_hook.h"
#include "oci_install.h"
#include "publisher.h"
#include "signals.h"

#define DEFAULT_CONFIG HB_CONFIG_DIR "/hm-publisher.conf"

static void usage(FILE *out)
{
	fputs("usage: hm-publisher serve [-c FILE] [--check-config] [--KEY VALUE]...\n"
	      "       hm-publisher emit api|state ...   (see hm-publisher emit --help)\n"
	      "       hm-publisher oci-hook STAGE ...   (see hm-publisher oci-hook --help)\n"
	      "       hm-publisher install-oci-hook --hooks-dir DIR | --bundle DIR ...   (see its --help)\n"
	      "       hm-publisher --check-config [-c FILE] [--KEY VALUE]...\n"
	      "       hm-publisher keygen\n"
	      "       hm-publisher --version | --help\n"
	      "serve runs the bus daemon in the foreground.  -c names the config file\n"
	      "(default " DEFAULT_CONFIG ", used when it exists); any config key may be\n"
	      "given as a flag, e.g. --journal /tmp/j.db --command-endpoint ipc:///tmp/c.sock.\n"
	      "keygen prints a new CURVE key pair (Z85): the public key, then the secret key.\n", out);
}

/* Loads the config of the command line and checks its values. */
static int load_config(int argc, char **argv, hb_config **out, bool *check, hb_error *err)
{
	int rc = hb_config_from_argv(argc, argv, hb_publisher_config_keys, DEFAULT_CONFIG, out, check, err);

	if (rc == 0 && (rc = hb_publisher_check(*out, err)) == 0 && hb_config_str(*out, "METRICS_LISTEN")[0] != '\0')
		rc = hb_metrics_listen_check(hb_config_str(*out, "METRICS_LISTEN"), err);
	if (rc < 0 && *out != NULL) {
		hb_config_free(*out);
		*out = NULL;
	}
	return rc;
}

static int serve(int argc, char **argv)
{
	hb_config *cfg = NULL;
	hb_error err = { 0 };
	bool check = false;
	int64_t level = 2;
	int rc;

	rc = load_config(argc, argv, &cfg, &check, &err);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher: configuration: %s\n", err.msg);
		return 2;
	}
	if (check) {
		puts("configuration OK");
		hb_config_free(cfg);
		return 0;
	}
	hb_config_int(cfg, "DEBUG_LEVEL", 0, 3, &level, &err);
	rc = hb_log_open(hb_config_str(cfg, "LOG"), (int)level, "hm-publisher", &err);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher: %s\n", err.msg);
		hb_config_free(cfg);
		return 2;
	}
	hb_config_source_set(argc, argv, hb_publisher_config_keys, DEFAULT_CONFIG);
	hb_signals_install();
	rc = hb_publisher_run(cfg, &err);
	if (rc < 0)
		hb_log(HB_LOG_ERROR, "%s", err.msg);
	hb_log_close();
	hb_config_free(cfg);
	xmlCleanupParser();
	if (rc < 0)
		fprintf(stderr, "hm-publisher: %s\n", err.msg);
	return rc < 0 ? 1 : 0;
}

/* Prints a new CURVE key pair: "public-key: <z85>" and "secret-key: <z85>". */
static int keygen(void)
{
	char pub[HB_CURVE_KEY_LEN + 1], sec[HB_CURVE_KEY_LEN + 1];
	hb_error err = { 0 };

	if (hb_curve_keypair(pub, sec, &err) < 0) {
		fprintf(stderr, "hm-publisher: %s\n", err.msg);
		return 1;
	}
	printf("public-key: %s\nsecret-key: %s\n", pub, sec);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("hm-publisher " HB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				usage(stdout);
				return 0;
			}
		return serve(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "--check-config") == 0 || strcmp(argv[1], "-c") == 0)
		return serve(argc, argv);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen();
	if (strcmp(argv[1], "emit") == 0) {
		rc = hb_emit_main(argc - 1, argv + 1);
		xmlCleanupParser();
		return rc;
	}
	if (strcmp(argv[1], "oci-hook") == 0) {
		rc = hb_oci_hook_main(argc - 1, argv + 1);
		xmlCleanupParser();
		return rc;
	}
	if (strcmp(argv[1], "install-oci-hook") == 0)
		return hb_oci_install_main(argc - 1, argv + 1);
	fprintf(stderr, "hm-publisher: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
