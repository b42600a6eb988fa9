/* curve.h -- CURVE keys: loading them from config values or files, and putting them on sockets. */
#ifndef HB_CURVE_H
#define HB_CURVE_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

#define HB_CURVE_KEY_LEN 40   /* a Z85 key: 40 characters for 32 bytes */

/* A CURVE server's secret key (on: CURVE_SECRET_KEY was set). */
typedef struct hb_curve_server {
	bool on;
	char secret[HB_CURVE_KEY_LEN + 1];
} hb_curve_server;

/* A CURVE client's keys and the server's public key. */
typedef struct hb_curve_client {
	char server[HB_CURVE_KEY_LEN + 1];
	char public_key[HB_CURVE_KEY_LEN + 1];
	char secret[HB_CURVE_KEY_LEN + 1];
} hb_curve_client;

/* Loads one key into out: value is either the 40-character Z85 key itself or
 * the absolute path of a file whose first line is one.  A secret key's file
 * must not be readable or writable by group or others. */
int hb_curve_key_load(const char *value, bool secret, char out[HB_CURVE_KEY_LEN + 1], hb_error *err);

/* Makes a new key pair (Z85) into pub and sec. */
int hb_curve_keypair(char pub[HB_CURVE_KEY_LEN + 1], char sec[HB_CURVE_KEY_LEN + 1], hb_error *err);

/* Reads a server's CURVE_SECRET_KEY (and checks CURVE_SERVER_KEY, its public
 * key, against it when given) from cfg; srv->on stays false when
 * CURVE_SECRET_KEY is empty.  CURVE needs CURVE_ALLOWED_CLIENTS too. */
int hb_curve_server_load(const hb_config *cfg, hb_curve_server *srv, hb_error *err);

/* Makes sock a CURVE server (ZAP domain "hookbus") when srv is on and
 * endpoint is tcp://; anything else is left plain.  Call before binding. */
int hb_curve_server_apply(const hb_curve_server *srv, void *sock, const char *endpoint, hb_error *err);

/* Reads CURVE_SERVER_PUBLIC_KEY, CURVE_PUBLIC_KEY and CURVE_SECRET_KEY from
 * cfg into a new *out (freed with free()); *out stays NULL when
 * CURVE_SERVER_PUBLIC_KEY is empty.  All three or none. */
int hb_curve_client_from_config(const hb_config *cfg, hb_curve_client **out, hb_error *err);

/* The same from the environment: HOOKBUS_CURVE_SERVER_KEY,
 * HOOKBUS_CURVE_PUBLIC_KEY, HOOKBUS_CURVE_SECRET_KEY (kept out of argv so a
 * secret never shows in the process list). */
int hb_curve_client_from_env(hb_curve_client **out, hb_error *err);

/* Makes sock a CURVE client of c when c is non-NULL and endpoint is tcp://.
 * Call before connecting. */
int hb_curve_client_apply(const hb_curve_client *c, void *sock, const char *endpoint, hb_error *err);

#endif
