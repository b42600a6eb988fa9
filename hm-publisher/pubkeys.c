/* pubkeys.c -- the keys of hm-publisher.conf, apart from the daemon so that the launcher can read the file. */
#include "publisher.h"

const hb_config_key hb_publisher_config_keys[] = {
	{ "PUBLISHER_ENDPOINT", "tcp://127.0.0.1:2101", false },
	{ "COMMAND_ENDPOINT", "tcp://127.0.0.1:2102", true },
	{ "LOCAL_ENDPOINT", "", false },
	{ "JOURNAL", "/var/lib/hookbus/journal.db", false },
	{ "JOURNAL_RETENTION", "100000", false },
	{ "HWM", "100000", false },
	{ "MAX_MESSAGE_SIZE", "4194304", false },
	{ "METRICS_LISTEN", "", false },
	{ "DEBUG_LEVEL", "2", false },
	{ "LOG", "stderr", false },
	{ "CURVE_SECRET_KEY", "", false },
	{ "CURVE_SERVER_KEY", "", false },
	{ "CURVE_ALLOWED_CLIENTS", "", false },
	{ NULL, NULL, false },
};
