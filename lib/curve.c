/* curve.c -- CURVE key material: Z85 values or key files, server and client socket options. */
#include "curve.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

#include "cleanup.h"
#include "fsutil.h"

#define KEY_FILE_MAX 4096

static bool z85_valid(const char *s, size_t len)
{
	uint8_t bin[32];
	char key[HB_CURVE_KEY_LEN + 1];

	if (len != HB_CURVE_KEY_LEN)
		return false;
	memcpy(key, s, len);
	key[len] = '\0';
	return zmq_z85_decode(bin, key) != NULL;
}

int hb_curve_key_load(const char *value, bool secret, char out[HB_CURVE_KEY_LEN + 1], hb_error *err)
{
	hb_autofree char *text = NULL;
	size_t len, start = 0, end;
	struct stat st;
	int rc;

	if (z85_valid(value, strlen(value))) {
		memcpy(out, value, HB_CURVE_KEY_LEN + 1);
		return 0;
	}
	if (value[0] != '/')
		return hb_error_set(err, -HB_EINVAL, "'%.60s' is neither a 40-character Z85 key nor an absolute "
				    "path of a key file", value);
	if (stat(value, &st) < 0)
		return hb_error_set(err, -HB_ENOENT, "key file %s: cannot read it", value);
	if (secret && (st.st_mode & 077))
		return hb_error_set(err, -HB_EPERM, "secret key file %s is accessible to group or others "
				    "(chmod 600 it)", value);
	rc = hb_file_read(value, KEY_FILE_MAX, &text, &len, err);
	if (rc < 0)
		return hb_error_prefix(err, "key file %s", value);
	while (start < len && isspace((unsigned char)text[start]))
		start++;
	for (end = start; end < len && text[end] != '\n' && text[end] != '\r'; end++)
		;
	while (end > start && isspace((unsigned char)text[end - 1]))
		end--;
	if (!z85_valid(text + start, end - start))
		return hb_error_set(err, -HB_EINVAL, "key file %s does not start with a 40-character Z85 key", value);
	memcpy(out, text + start, HB_CURVE_KEY_LEN);
	out[HB_CURVE_KEY_LEN] = '\0';
	return 0;
}

int hb_curve_keypair(char pub[HB_CURVE_KEY_LEN + 1], char sec[HB_CURVE_KEY_LEN + 1], hb_error *err)
{
	if (zmq_curve_keypair(pub, sec) < 0)
		return hb_error_set(err, -HB_EIO, "cannot make a CURVE key pair: %s (libzmq without libsodium?)",
				    zmq_strerror(errno));
	return 0;
}

int hb_curve_server_load(const hb_config *cfg, hb_curve_server *srv, hb_error *err)
{
	const char *secret = hb_config_str(cfg, "CURVE_SECRET_KEY");
	const char *server = hb_config_str(cfg, "CURVE_SERVER_KEY");
	const char *allowed = hb_config_str(cfg, "CURVE_ALLOWED_CLIENTS");
	char pub[HB_CURVE_KEY_LEN + 1], derived[HB_CURVE_KEY_LEN + 1];
	int rc;

	memset(srv, 0, sizeof(*srv));
	if (secret == NULL || secret[0] == '\0') {
		if (server != NULL && server[0] != '\0')
			return hb_error_set(err, -HB_EINVAL, "CURVE_SERVER_KEY is set without CURVE_SECRET_KEY");
		return 0;
	}
	if (!zmq_has("curve"))
		return hb_error_set(err, -HB_EINVAL, "CURVE_SECRET_KEY is set but libzmq has no CURVE support");
	rc = hb_curve_key_load(secret, true, srv->secret, err);
	if (rc < 0)
		return hb_error_prefix(err, "CURVE_SECRET_KEY");
	if (allowed == NULL || allowed[0] == '\0')
		return hb_error_set(err, -HB_EINVAL, "CURVE_SECRET_KEY needs CURVE_ALLOWED_CLIENTS (the file of the "
				    "client public keys to admit)");
	if (server != NULL && server[0] != '\0') {
		rc = hb_curve_key_load(server, false, pub, err);
		if (rc < 0)
			return hb_error_prefix(err, "CURVE_SERVER_KEY");
		if (zmq_curve_public(derived, srv->secret) < 0 || strcmp(derived, pub) != 0)
			return hb_error_set(err, -HB_EINVAL, "CURVE_SERVER_KEY is not the public key of CURVE_SECRET_KEY");
	}
	srv->on = true;
	return 0;
}

static bool is_tcp(const char *endpoint)
{
	return strncmp(endpoint, "tcp://", 6) == 0;
}

int hb_curve_server_apply(const hb_curve_server *srv, void *sock, const char *endpoint, hb_error *err)
{
	int one = 1;

	if (srv == NULL || !srv->on || !is_tcp(endpoint))
		return 0;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, srv->secret, HB_CURVE_KEY_LEN) < 0 ||
	    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "hookbus", 7) < 0)
		return hb_error_set(err, -HB_EIO, "cannot make %s a CURVE server: %s", endpoint, zmq_strerror(errno));
	return 0;
}

/* Loads the three client keys named by get(name) into a new *out. */
static int client_load(const char *server, const char *pub, const char *sec, const char *const names[3],
		       hb_curve_client **out, hb_error *err)
{
	hb_autofree hb_curve_client *c = NULL;
	int rc;

	*out = NULL;
	if ((server == NULL || !*server) && (pub == NULL || !*pub) && (sec == NULL || !*sec))
		return 0;
	if (server == NULL || !*server || pub == NULL || !*pub || sec == NULL || !*sec)
		return hb_error_set(err, -HB_EINVAL, "CURVE needs all of %s, %s and %s", names[0], names[1], names[2]);
	if (!zmq_has("curve"))
		return hb_error_set(err, -HB_EINVAL, "%s is set but libzmq has no CURVE support", names[0]);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if ((rc = hb_curve_key_load(server, false, c->server, err)) < 0)
		return hb_error_prefix(err, "%s", names[0]);
	if ((rc = hb_curve_key_load(pub, false, c->public_key, err)) < 0)
		return hb_error_prefix(err, "%s", names[1]);
	if ((rc = hb_curve_key_load(sec, true, c->secret, err)) < 0)
		return hb_error_prefix(err, "%s", names[2]);
	*out = hb_steal(&c);
	return 0;
}

int hb_curve_client_from_config(const hb_config *cfg, hb_curve_client **out, hb_error *err)
{
	static const char *const names[3] = { "CURVE_SERVER_PUBLIC_KEY", "CURVE_PUBLIC_KEY", "CURVE_SECRET_KEY" };

	return client_load(hb_config_str(cfg, names[0]), hb_config_str(cfg, names[1]), hb_config_str(cfg, names[2]),
			   names, out, err);
}

int hb_curve_client_from_env(hb_curve_client **out, hb_error *err)
{
	static const char *const names[3] = { "HOOKBUS_CURVE_SERVER_KEY", "HOOKBUS_CURVE_PUBLIC_KEY",
					      "HOOKBUS_CURVE_SECRET_KEY" };

	return client_load(getenv(names[0]), getenv(names[1]), getenv(names[2]), names, out, err);
}

int hb_curve_client_apply(const hb_curve_client *c, void *sock, const char *endpoint, hb_error *err)
{
	if (c == NULL || !is_tcp(endpoint))
		return 0;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server, HB_CURVE_KEY_LEN) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->public_key, HB_CURVE_KEY_LEN) < 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, HB_CURVE_KEY_LEN) < 0)
		return hb_error_set(err, -HB_EIO, "cannot make a CURVE client for %s: %s", endpoint, zmq_strerror(errno));
	return 0;
}
