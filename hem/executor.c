/* executor.c -- hem's hook runs: queueing executions durably, starting them under the limit, timeouts, capture, records. */
#include "hem.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "args.h"
#include "base64.h"
#include "cleanup.h"
#include "filter.h"
#include "hemmetrics.h"
#include "log.h"
#include "metrics.h"
#include "xml.h"

#define KILL_GRACE_MS 3000   /* SIGTERM of a timed-out hook, then SIGKILL after this */
#define HOOK_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int64_t hem_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns the base64 of node's serialization (a new string), or NULL. */
static char *node_base64(struct hem *h, xmlNodePtr node)
{
	size_t len;
	const char *xml = node ? hb_xml_codec_dump(h->codec, node, &len) : NULL;

	return xml ? hb_base64_encode(xml, len, NULL) : NULL;
}

/* Packs argv[0..argc) as NUL-terminated elements into a new buffer. */
static char *argv_pack(char **argv, size_t argc, size_t *len)
{
	size_t n = 0;
	char *buf, *p;

	for (size_t i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	buf = p = malloc(n ? n : 1);
	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < argc; i++)
		p = stpcpy(p, argv[i]) + 1;
	*len = n;
	return buf;
}

/* Returns NULL when host may be given to the remote shell as the host to
 * run on, else why not: it must not be empty, must not start with '-' (the
 * remote shell would take it for an option) and holds no blank or control
 * character. */
static const char *remote_host_problem(const char *host)
{
	if (host == NULL || host[0] == '\0')
		return "REMOTE = yes but the event has no REMOTE_HOST to run the hook on";
	if (host[0] == '-')
		return "REMOTE = yes but the event's REMOTE_HOST starts with '-' (it would be taken for an option)";
	for (const char *p = host; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "REMOTE = yes but the event's REMOTE_HOST holds a blank or control character";
	return NULL;
}

/* Queues one execution of hook for the event m (key is the event's key that
 * matched), expanding its arguments now so that the record holds them.  A
 * remote hook without a usable REMOTE_HOST is recorded as an ERROR saying
 * so; a hook at its CONCURRENCY with the skip policy as SKIPPED. */
static int queue_one(struct hem *h, const struct hem_hook *hook, const hb_message *m, const char *key,
		     const char *api_b64, const char *tmpl_b64, hb_error *err)
{
	const hb_hookdef *d = hook->def;
	char **argv = NULL;
	size_t argc = 0, packed_len = 0;
	hb_autofree char *joined = NULL;
	hb_autofree char *packed = NULL;
	hb_exec_new e = { 0 };
	char refusal[HB_ERROR_MAX];
	int64_t exec_id;
	int rc;

	rc = hb_args_expand(d->arguments, api_b64, tmpl_b64, &argv, &argc, err);
	if (rc == -HB_ENOMEM)
		return rc;
	if (rc < 0) {
		/* This hook cannot run on this event (its arguments would be too
		 * large): that is its execution's result, not the event's loss. */
		hb_error_prefix(err, "ARGUMENTS");
		snprintf(refusal, sizeof(refusal), "%s", err->msg);
		e.refusal = refusal;
		argv = NULL;
		argc = 0;
	}
	joined = argv ? hb_args_join(argv, argc) : strdup("");
	packed = argv_pack(argv, d->arguments_stdin ? 0 : argc, &packed_len);
	hb_args_free(argv);
	if (joined == NULL || packed == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	e.hook_id = hook->id;
	e.seq = (int64_t)m->seq;
	e.new_seq = e.seq > h->last_seq;
	e.event_key = key;
	e.retry_of = -1;
	e.command = d->command;
	e.arguments = joined;
	e.argv = packed;
	e.argv_len = packed_len;
	if (d->arguments_stdin) {
		e.stdin_data = joined;
		e.stdin_len = strlen(joined);
	}
	e.blocking = d->blocking;
	e.remote_host = d->remote ? m->remote_host : NULL;
	if (d->remote && e.refusal == NULL && remote_host_problem(m->remote_host) != NULL) {
		e.refusal = remote_host_problem(m->remote_host);
		e.remote_host = NULL;
	}
	if (e.refusal == NULL && d->concurrency > 0 && d->concurrency_skip) {
		int64_t active = 0;

		rc = hb_store_exec_active(h->store, hook->id, &active, err);
		if (rc < 0)
			return rc;
		if (active >= d->concurrency) {
			snprintf(refusal, sizeof(refusal),
				 "skipped: CONCURRENCY = %ld executions of this hook were already queued or running "
				 "(CONCURRENCY_POLICY = skip)", d->concurrency);
			e.skipped = refusal;
		}
	}
	rc = hb_store_exec_queue(h->store, &e, &exec_id, err);
	if (rc == 0 && exec_id >= 0) {
		const char *why = e.refusal ? e.refusal : e.skipped;

		hb_log(why ? HB_LOG_WARN : HB_LOG_INFO, "hook %" PRId64 " (%s) execution %" PRId64 " %s for seq %"
		       PRIu64 " %s%s%s", hook->id, d->name, exec_id,
		       e.refusal ? "refused" : e.skipped ? "skipped" : "queued", m->seq, key, why ? ": " : "",
		       why ? why : "");
		if (why != NULL)
			hem_metrics_execution(hook->id, e.refusal ? HB_EXEC_ERROR : HB_EXEC_SKIPPED);
		if (why != NULL && d->blocking)
			hem_verdict_note(h, hook->id, exec_id, (int64_t)m->seq, false, why, strlen(why));
	}
	return rc;
}

/* Whether hook's FILTER (if any) lets event m run it; counts the events it
 * leaves out. */
static bool filter_passes(struct hem *h, struct hem_hook *hook, const hb_message *m)
{
	hb_error e = { 0 };
	int rc;

	if (hook->def->filter_comp == NULL)
		return true;
	rc = hb_filter_eval(hook->def->filter_comp, m->doc, &e);
	if (rc > 0)
		return true;
	if (rc < 0)
		hb_log(HB_LOG_WARN, "hook %" PRId64 " (%s): FILTER failed on seq %" PRIu64 " (the hook does not run): %s",
		       hook->id, hook->def->name, m->seq, e.msg);
	else
		hb_log(HB_LOG_DEBUG, "hook %" PRId64 " (%s): FILTER is false for seq %" PRIu64, hook->id,
		       hook->def->name, m->seq);
	hook->filtered++;
	h->events_filtered++;
	hb_metric_add(HM_EVENTS_FILTERED, 1);
	return false;
}

int hem_event_queue(struct hem *h, const hb_message *m, hb_error *err)
{
	hb_keys keys = { 0 };
	hb_autofree char *api_b64 = NULL;
	hb_autofree char *tmpl_b64 = NULL;
	bool any = false, bodies = false;
	size_t found = 0;
	int rc;

	rc = hb_message_keys(m, &keys, err);
	if (rc < 0)
		return rc;
	hb_metric_add(HM_EVENTS_RECEIVED, 1);
	/* The hooks whose prefix begins a key, in id order as all hooks are
	 * walked: the others cannot match. */
	rc = hem_hook_index_find(h, keys.key, keys.n, &found, err);
	if (rc < 0) {
		hb_keys_free(&keys);
		return rc;
	}
	rc = hb_store_begin(h->store, err);
	for (size_t i = 0; i < found && rc == 0; i++) {
		struct hem_hook *hook = &h->hooks[h->index.found[i]];
		for (size_t k = 0; k < keys.n && rc == 0; k++) {
			if (!hb_hookdef_matches(hook->def, keys.key[k], strlen(keys.key[k])))
				continue;
			if (!filter_passes(h, hook, m))
				break;
			any = true;
			/* The event's $API or $TEMPLATE value, made once for the
			 * hooks whose arguments may take it. */
			if (!bodies && hb_args_take_event(hook->def->arguments)) {
				api_b64 = m->type == HB_MSG_API ? node_base64(h, m->body) : NULL;
				tmpl_b64 = m->type == HB_MSG_STATE ? node_base64(h, m->body) : NULL;
				if (api_b64 == NULL && tmpl_b64 == NULL)
					rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
				bodies = true;
			}
			if (rc == 0)
				rc = queue_one(h, hook, m, keys.key[k], api_b64, tmpl_b64, err);
			break;
		}
	}
	if (rc == 0)
		rc = hb_store_set_last_seq(h->store, (int64_t)m->seq, err);
	if (rc == 0)
		rc = hb_store_commit(h->store, err);
	if (rc < 0)
		hb_store_rollback(h->store);
	else
		h->last_seq = (int64_t)m->seq;
	hb_keys_free(&keys);
	if (any)
		h->dispatch_needed = true;
	return rc;
}

/* Fills e with what a retry of old repeats: its event, arguments, stdin,
 * host and blocking flag (strings borrowed from old).  The caller sets what
 * differs: RETRY_OF, the command and the attempt. */
static void retry_from(const hb_exec_row *old, hb_exec_new *e)
{
	e->hook_id = old->hook_id;
	e->seq = old->seq;
	e->event_key = old->event_key;
	e->arguments = old->arguments;
	e->argv = old->argv;
	e->argv_len = old->argv_len;
	e->stdin_data = old->stdin_data;
	e->stdin_len = old->stdin_len;
	e->remote_host = old->remote_host;
	e->blocking = old->blocking;
}

int hem_retry(struct hem *h, int64_t hook_id, int64_t exec_id, int64_t *new_exec, hb_error *err)
{
	hb_exec_row old = { 0 };
	hb_exec_new e = { 0 };
	struct hem_hook *hook = hem_hook_find(h, hook_id);
	int rc;

	if (hook == NULL)
		return hb_error_set(err, -HB_ENOENT, "hook %" PRId64 " does not exist", hook_id);
	rc = hb_store_exec_get(h->store, hook_id, exec_id, &old, err);
	if (rc < 0)
		return rc;
	if (strcmp(old.state, HB_EXEC_PENDING) == 0 || strcmp(old.state, HB_EXEC_RUNNING) == 0) {
		hb_exec_row_clear(&old);
		return hb_error_set(err, -HB_EINVAL, "execution %" PRId64 " of hook %" PRId64 " has not finished",
				    exec_id, hook_id);
	}
	retry_from(&old, &e);
	e.retry_of = exec_id;
	e.command = hook->def->command;
	e.attempt = 1;
	rc = hb_store_begin(h->store, err);
	if (rc == 0)
		rc = hb_store_exec_queue(h->store, &e, new_exec, err);
	if (rc == 0)
		rc = hb_store_commit(h->store, err);
	if (rc < 0)
		hb_store_rollback(h->store);
	hb_exec_row_clear(&old);
	if (rc == 0) {
		hb_log(HB_LOG_INFO, "hook %" PRId64 " execution %" PRId64 " queued as a retry of %" PRId64,
		       hook_id, *new_exec, exec_id);
		h->dispatch_needed = true;
	}
	return rc;
}

#define PARK_MAX 256

/* What one round of hem_dispatch() has taken from the queue so far, and
 * the records it found held back by their hook's CONCURRENCY. */
struct pick {
	struct hem *h;
	int64_t hook_ids[16];
	size_t n;
	int64_t ordinary_free;  /* ordinary (not blocking) executions this round may still start */
	struct {
		int64_t hook_id, exec_id;
	} park[PARK_MAX];
	size_t npark;
};

/* hb_take_fn of hem_dispatch(): passes over records already running, those
 * of a hook that is at its CONCURRENCY (counting what this round took),
 * which it notes for parking, and ordinary ones once the ordinary slots are
 * taken (the reserved slots are for blocking executions), so that they
 * wait in the queue without holding up other records. */
static bool take(void *ctx, int64_t hook_id, int64_t exec_id, bool blocking)
{
	struct pick *p = ctx;
	struct hem *h = p->h;
	struct hem_hook *hook = hem_hook_find(h, hook_id);
	int64_t busy = 0;

	if (!blocking && p->ordinary_free <= 0)
		return false;

	for (size_t i = 0; i < h->nrun; i++) {
		if (h->run[i].hook_id != hook_id)
			continue;
		if (h->run[i].exec_id == exec_id)
			return false;
		busy++;
	}
	for (size_t i = 0; i < p->n; i++)
		busy += p->hook_ids[i] == hook_id;
	if (hook != NULL && hook->def->concurrency > 0 && busy >= hook->def->concurrency) {
		if (p->npark < PARK_MAX) {
			p->park[p->npark].hook_id = hook_id;
			p->park[p->npark].exec_id = exec_id;
			p->npark++;
		}
		return false;
	}
	if (!blocking)
		p->ordinary_free--;
	if (p->n < sizeof(p->hook_ids) / sizeof(p->hook_ids[0]))
		p->hook_ids[p->n++] = hook_id;
	return true;
}

size_t hem_running(const struct hem *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nrun; i++)
		n += h->run[i].hook_id >= 0;
	return n;
}

/* The wait before attempt n + 1 (n >= 1): RETRY_DELAY doubled for each
 * attempt after the first, at most HB_RETRY_DELAY_CAP seconds. */
static int64_t retry_wait_ms(long delay, int n)
{
	int64_t s = delay;

	for (int i = 1; i < n && s < HB_RETRY_DELAY_CAP; i++)
		s *= 2;
	if (s > HB_RETRY_DELAY_CAP)
		s = HB_RETRY_DELAY_CAP;
	return s * 1000;
}

/* Queues the automatic retry of execution exec_id of hook_id, which just
 * ended in ERROR (timed_out telling how), when the hook's RETRIES and
 * RETRY_ON ask for one: a PENDING record with the same command, arguments,
 * stdin and remote host, the next attempt number, RETRY_OF the first
 * attempt's id, and a not-before time.  Runs inside the caller's
 * transaction. */
static int queue_auto_retry(struct hem *h, int64_t hook_id, int64_t exec_id, bool timed_out, hb_error *err)
{
	struct hem_hook *hook = hem_hook_find(h, hook_id);
	hb_exec_row old = { 0 };
	hb_exec_new e = { 0 };
	int64_t new_exec = -1;
	int rc;

	if (hook == NULL || hook->def->retries <= 0)
		return 0;
	if ((timed_out && hook->def->retry_on == HB_RETRY_ON_FAILURE) ||
	    (!timed_out && hook->def->retry_on == HB_RETRY_ON_TIMEOUT))
		return 0;
	rc = hb_store_exec_get(h->store, hook_id, exec_id, &old, err);
	if (rc < 0)
		return rc;
	if (old.attempt < 1 || old.attempt > hook->def->retries) {
		hb_exec_row_clear(&old);
		return 0;
	}
	retry_from(&old, &e);
	e.retry_of = old.attempt > 1 && old.retry_of >= 0 ? old.retry_of : exec_id;
	e.command = old.command;
	e.attempt = old.attempt + 1;
	e.run_after_ms = hem_now_ms() + retry_wait_ms(hook->def->retry_delay, old.attempt);
	rc = hb_store_exec_queue(h->store, &e, &new_exec, err);
	if (rc == 0) {
		hb_log(HB_LOG_INFO, "hook %" PRId64 " execution %" PRId64 " queued: attempt %d of %ld (retry of %" PRId64
		       ") in %" PRId64 " ms", hook_id, new_exec, e.attempt, hook->def->retries + 1, e.retry_of,
		       e.run_after_ms - hem_now_ms());
		h->dispatch_needed = true;
	}
	hb_exec_row_clear(&old);
	return rc;
}

/* Whether hook_id has a CONCURRENCY of its own, behind which its records may
 * be parked (a hook deleted meanwhile has none). */
static bool limited(struct hem *h, int64_t hook_id)
{
	const struct hem_hook *hook = hem_hook_find(h, hook_id);

	return hook != NULL && hook->def->concurrency > 0;
}

/* Completes the record of execution exec_id of hook_id with end, and queues
 * its automatic retry when one is due, in one transaction: a crash between
 * the two cannot lose the retry.  The retry is queued first, while the
 * record is still there to copy (completing it may prune it at once, with
 * LOG_RETENTION = 0); when that fails, the end is recorded all the same. */
static void record_end(struct hem *h, int64_t hook_id, int64_t exec_id, const hb_exec_end *end, int64_t retention)
{
	hb_error err = { 0 };
	int rc = hb_store_begin(h->store, &err);

	if (rc == 0 && strcmp(end->state, HB_EXEC_ERROR) == 0 &&
	    queue_auto_retry(h, hook_id, exec_id, end->timed_out, &err) < 0) {
		hb_store_rollback(h->store);
		hb_log(HB_LOG_ERROR, "queueing the retry of hook %" PRId64 " execution %" PRId64 ": %s", hook_id,
		       exec_id, err.msg);
		rc = hb_store_begin(h->store, &err);
	}
	if (rc == 0)
		rc = hb_store_exec_finish(h->store, hook_id, exec_id, end, retention, limited(h, hook_id), &err);
	if (rc == 0)
		rc = hb_store_commit(h->store, &err);
	if (rc < 0) {
		hb_store_rollback(h->store);
		hb_log(HB_LOG_ERROR, "recording hook %" PRId64 " execution %" PRId64 ": %s", hook_id, exec_id, err.msg);
	}
}

/* Records an execution that could not start as an ERROR with why on stderr. */
static void finish_refused(struct hem *h, const hb_exec_row *row, int64_t retention, const char *why)
{
	hb_exec_end end = { .state = HB_EXEC_ERROR, .code = 255, .err = why, .err_len = strlen(why),
			    .end_ms = hem_now_ms(), .never_started = true };

	hb_log(HB_LOG_WARN, "hook %" PRId64 " execution %" PRId64 ": %s", row->hook_id, row->exec_id, why);
	hem_metrics_execution(row->hook_id, HB_EXEC_ERROR);
	if (row->blocking)
		hem_verdict_note(h, row->hook_id, row->exec_id, row->seq, false, why, strlen(why));
	record_end(h, row->hook_id, row->exec_id, &end, retention);
}

/* Finds program (REMOTE_SHELL's first word) as a shell would on HOOK_PATH:
 * a name with a '/' is taken as it is.  *out is a new string. */
static int program_find(const char *program, char **out, hb_error *err)
{
	const char *dirs = HOOK_PATH;

	if (strchr(program, '/') != NULL) {
		*out = strdup(program);
		return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	while (*dirs != '\0') {
		size_t n = strcspn(dirs, ":");
		char *path = NULL;

		if (asprintf(&path, "%.*s/%s", (int)n, dirs, program) < 0)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		if (access(path, X_OK) == 0) {
			*out = path;
			return 0;
		}
		free(path);
		dirs += n;
		if (*dirs == ':')
			dirs++;
	}
	return hb_error_set(err, -HB_ENOENT, "REMOTE_SHELL: '%s' is not found in %s", program, HOOK_PATH);
}

/* Appends s to p quoted for a POSIX shell: inside single quotes, where
 * nothing is special, with each ' written as '\''.  Returns the end. */
static char *sh_quote(char *p, const char *s)
{
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return p;
}

/* Whether path has a ".." component. */
static bool has_dotdot(const char *path)
{
	while (*path != '\0') {
		size_t len = strcspn(path, "/");

		if (len == 2 && path[0] == '.' && path[1] == '.')
			return true;
		path += len;
		if (*path == '/')
			path++;
	}
	return false;
}

/*
 * Builds the argument vector of a remote execution in *out (a new
 * NULL-terminated array whose strings point into h->remote_shell, row and
 * *cmdline; the caller frees the array and *cmdline): REMOTE_SHELL's words,
 * the record's REMOTE_HOST, then ONE word that the remote side's shell
 * runs: the command (under REMOTE_HOOK_BASE_PATH when relative) and each
 * argument single-quoted, so that no byte of them means anything to that
 * shell.  *path is REMOTE_SHELL's program found on HOOK_PATH.
 */
static int remote_argv(struct hem *h, const hb_exec_row *row, char **path, char ***out, char **cmdline, hb_error *err)
{
	hb_autofree char *command = NULL;
	size_t size, i = 0;
	char **argv, *p;
	int rc;

	if (row->command[0] != '/' && has_dotdot(row->command))
		return hb_error_set(err, -HB_EPERM, "COMMAND '%s' leaves REMOTE_HOOK_BASE_PATH ('..')", row->command);
	rc = program_find(h->remote_shell[0], path, err);
	if (rc < 0)
		return rc;
	if (row->command[0] == '/')
		command = strdup(row->command);
	else if (asprintf(&command, "%s/%s", h->remote_base_path, row->command) < 0)
		command = NULL;
	if (command == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	size = 3 + 4 * strlen(command);
	for (size_t off = 0; off < row->argv_len; off += strlen(row->argv + off) + 1) {
		size += 3 + 4 * strlen(row->argv + off);
	}
	*cmdline = malloc(size + 1);
	argv = calloc(h->remote_shell_n + 3, sizeof(*argv));
	if (*cmdline == NULL || argv == NULL) {
		free(*cmdline);
		free(argv);
		*cmdline = NULL;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	p = sh_quote(*cmdline, command);
	for (size_t off = 0; off < row->argv_len; off += strlen(row->argv + off) + 1) {
		*p++ = ' ';
		p = sh_quote(p, row->argv + off);
	}
	for (; i < h->remote_shell_n; i++)
		argv[i] = h->remote_shell[i];
	argv[i++] = row->remote_host;
	argv[i++] = *cmdline;
	argv[i] = NULL;
	*out = argv;
	return 0;
}

/* Unpacks a record's argument vector behind argv[0] = path (pointers into
 * row->argv); returns a new NULL-terminated array or NULL. */
static char **argv_unpack(const hb_exec_row *row, char *path)
{
	size_t n = 0, i = 1;
	char **argv;

	for (size_t off = 0; off < row->argv_len; off++)
		n += row->argv[off] == '\0';
	argv = calloc(n + 2, sizeof(*argv));
	if (argv == NULL)
		return NULL;
	argv[0] = path;
	for (size_t off = 0; off < row->argv_len; off += strlen(row->argv + off) + 1)
		argv[i++] = row->argv + off;
	return argv;
}

/* What a claimed slot needs to start its hook: the record, the program, its
 * arguments and environment. */
struct hem_launch {
	hb_exec_row row;
	char *path;
	char **argv;             /* its strings are path and the row's, or remote_argv()'s own */
	char *cmdline;           /* a remote hook's command line (argv's last element) */
	char env_id[64], env_name[HB_HOOK_NAME_MAX + 16], env_exec[64], env_key[HB_KEY_MAX + 32], env_seq[64];
	char *envp[7];
};

static void launch_free(struct hem_launch *l)
{
	if (l == NULL)
		return;
	hb_exec_row_clear(&l->row);
	free(l->path);
	free(l->argv);
	free(l->cmdline);
	free(l);
}

/* Claims slot for the queued execution row (taking row's strings): checks
 * the hook's file, builds its arguments and environment, and marks the
 * record RUNNING in the open transaction.  The hook starts in launch_all()
 * once that is committed: a crash can leave an execution INTERRUPTED (it may
 * have run), never PENDING after it ran, so no event runs a hook twice. */
static void claim_one(struct hem *h, struct hem_run *slot, hb_exec_row *row)
{
	struct hem_hook *hook = hem_hook_find(h, row->hook_id);
	struct hem_launch *l;
	hb_error err = { 0 };
	int64_t retention, timeout, start_ms;

	if (hook == NULL) {
		finish_refused(h, row, h->retention, "the hook's template no longer validates; see hem's log");
		return;
	}
	retention = hook->def->log_retention >= 0 ? hook->def->log_retention : h->retention;
	timeout = hook->def->timeout >= 0 ? hook->def->timeout : h->default_timeout;
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		finish_refused(h, row, retention, "out of memory");
		return;
	}
	if (row->remote_host != NULL) {
		/* The command is on the remote host: no local file to check. */
		if (remote_argv(h, row, &l->path, &l->argv, &l->cmdline, &err) < 0) {
			finish_refused(h, row, retention, err.msg);
			launch_free(l);
			return;
		}
	} else {
		if (hb_hook_path_resolve(h->base_path, row->command, &l->path, &err) < 0 ||
		    hb_hook_file_check(l->path, h->uid, h->gid, &err) < 0) {
			finish_refused(h, row, retention, err.msg);
			launch_free(l);
			return;
		}
		l->argv = argv_unpack(row, l->path);
		if (l->argv == NULL) {
			finish_refused(h, row, retention, "out of memory");
			launch_free(l);
			return;
		}
	}
	snprintf(l->env_id, sizeof(l->env_id), "HOOK_ID=%" PRId64, row->hook_id);
	snprintf(l->env_name, sizeof(l->env_name), "HOOK_NAME=%s", hook->def->name);
	snprintf(l->env_exec, sizeof(l->env_exec), "HOOK_EXECUTION_ID=%" PRId64, row->exec_id);
	snprintf(l->env_key, sizeof(l->env_key), "HOOK_EVENT_KEY=%s", row->event_key ? row->event_key : "");
	if (row->seq >= 0)
		snprintf(l->env_seq, sizeof(l->env_seq), "HOOK_SEQ=%" PRId64, row->seq);
	else
		snprintf(l->env_seq, sizeof(l->env_seq), "HOOK_SEQ=");
	l->envp[0] = (char *)"PATH=" HOOK_PATH;
	l->envp[1] = l->env_id;
	l->envp[2] = l->env_name;
	l->envp[3] = l->env_exec;
	l->envp[4] = l->env_key;
	l->envp[5] = l->env_seq;
	l->envp[6] = NULL;
	start_ms = hem_now_ms();
	if (hb_store_exec_start(h->store, row->hook_id, row->exec_id, start_ms, &err) < 0) {
		hb_log(HB_LOG_ERROR, "recording the start of hook %" PRId64 " execution %" PRId64 ": %s (not "
		       "started; retried later)", row->hook_id, row->exec_id, err.msg);
		launch_free(l);
		return;
	}
	memset(slot, 0, sizeof(*slot));
	slot->hook_id = row->hook_id;
	slot->exec_id = row->exec_id;
	slot->start_ms = start_ms;
	slot->deadline_ms = timeout > 0 ? start_ms + timeout * 1000 : 0;
	slot->retention = retention;
	slot->blocking = row->blocking;
	slot->seq = row->seq;
	/* The row's strings move to the launch (argv points into them). */
	l->row = *row;
	memset(row, 0, sizeof(*row));
	slot->launch = l;
}

/* Starts the hooks of the claimed slots, whose RUNNING marks are committed. */
static void launch_all(struct hem *h)
{
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *slot = &h->run[i];
		struct hem_launch *l = slot->launch;
		hb_error err = { 0 };

		if (l == NULL)
			continue;
		slot->launch = NULL;
		if (hb_child_spawn(l->path, l->argv, l->envp, l->row.stdin_data, l->row.stdin_len,
				   (size_t)h->output_limit, &slot->child, &err) < 0) {
			/* Recorded as an ERROR; the slot goes to the next queued
			 * execution on the next turn. */
			slot->hook_id = -1;
			h->dispatch_needed = true;
			finish_refused(h, &l->row, slot->retention, err.msg);
		} else {
			struct hem_hook *hook = hem_hook_find(h, slot->hook_id);
			hb_log(HB_LOG_INFO, "hook %" PRId64 " (%s) execution %" PRId64 " started: pid %ld %s%s%s",
			       slot->hook_id, hook ? hook->def->name : "?", slot->exec_id, (long)slot->child.pid, l->path,
			       l->row.remote_host ? " on " : "", l->row.remote_host ? l->row.remote_host : "");
		}
		launch_free(l);
	}
}

/* Gives back the claimed slots when their RUNNING marks were not committed:
 * the records are still PENDING and start on a later turn. */
static void unclaim_all(struct hem *h)
{
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *slot = &h->run[i];

		if (slot->launch == NULL)
			continue;
		hb_log(HB_LOG_ERROR, "hook %" PRId64 " execution %" PRId64 " not started: its start was not recorded "
		       "(retried later)", slot->hook_id, slot->exec_id);
		launch_free(slot->launch);
		slot->launch = NULL;
		slot->hook_id = -1;
	}
	h->dispatch_needed = true;
}

/* Notes when the next delayed retry is due, for the poll loop's timeout. */
static void note_next_due(struct hem *h)
{
	hb_error err = { 0 };

	if (hb_store_exec_next_due(h->store, hem_now_ms(), &h->next_due_ms, &err) < 0) {
		hb_log(HB_LOG_ERROR, "reading the queue: %s", err.msg);
		h->next_due_ms = hem_now_ms() + 1000;
	}
}

/* Claims due queued executions while slots are free. */
static void dispatch_rounds(struct hem *h);

/* Commits the turn's open transaction (batch: whether it began) and starts
 * the hooks it claimed; when the commit fails nothing of the turn is
 * recorded and the claimed executions stay queued. */
static void turn_commit(struct hem *h, bool batch, const char *what)
{
	hb_error err = { 0 };

	if (batch && hb_store_commit(h->store, &err) < 0) {
		hb_store_rollback(h->store);
		hb_log(HB_LOG_ERROR, "%s: %s%s", what, err.msg, h->turn_tx ? " (the events of the bus it held "
		       "will be replayed)" : "");
		hem_turn_rollback(h);
		unclaim_all(h);
		return;
	}
	h->turn_tx = false;
	launch_all(h);
}

/* Runs what dispatch_needed asks for within the open transaction. */
static void dispatch_claim(struct hem *h)
{
	if (!h->dispatch_needed)
		return;
	h->dispatch_needed = false;
	if (h->stopping)
		return;
	dispatch_rounds(h);
	note_next_due(h);
}

void hem_dispatch(struct hem *h)
{
	hb_error err = { 0 };
	bool batch = hb_store_begin(h->store, &err) == 0;

	/* The RUNNING marks of a turn share one commit. */
	if (!batch)
		hb_store_rollback(h->store);
	dispatch_claim(h);
	turn_commit(h, batch, "recording the start of hooks");
}

static void dispatch_rounds(struct hem *h)
{
	hb_error err = { 0 };

	/* A few rounds at most: a record that cannot even be marked finished
	 * (database full) must not spin the loop; the next turn tries again. */
	for (int round = 0; round < 4; round++) {
		size_t want = (size_t)(h->concurrency + h->blocking_concurrency);
		size_t limit = want < h->nrun ? want : h->nrun;
		size_t free_slots = limit > hem_running(h) ? limit - hem_running(h) : 0;
		hb_exec_row rows[16];
		struct pick p = { .h = h, .ordinary_free = h->concurrency };
		int n;

		if (free_slots == 0)
			return;
		if (free_slots > 16)
			free_slots = 16;
		for (size_t i = 0; i < h->nrun; i++)
			p.ordinary_free -= h->run[i].hook_id >= 0 && !h->run[i].blocking;
		/* Blocking records come first in the queue, so asking for no more
		 * rows than ordinary slots are free (when any are) ends the scan
		 * there instead of walking the whole queue for the reserved slots. */
		if (p.ordinary_free > 0 && (size_t)p.ordinary_free < free_slots)
			free_slots = (size_t)p.ordinary_free;
		n = hb_store_exec_next(h->store, hem_now_ms(), p.ordinary_free <= 0, rows, free_slots, take, &p, &err);
		if (n < 0) {
			hb_log(HB_LOG_ERROR, "reading the queue: %s", err.msg);
			return;
		}
		/* Out of the walk of later dispatches until one of the hook's
		 * executions ends (hb_store_exec_finish() returns the oldest). */
		for (size_t i = 0; i < p.npark; i++)
			if (hb_store_exec_park(h->store, p.park[i].hook_id, p.park[i].exec_id, &err) < 0)
				hb_log(HB_LOG_ERROR, "parking hook %" PRId64 " execution %" PRId64 ": %s",
				       p.park[i].hook_id, p.park[i].exec_id, err.msg);
		if (n == 0)
			return;
		for (int i = 0; i < n; i++) {
			struct hem_run *slot = NULL;
			for (size_t s = 0; s < h->nrun && slot == NULL; s++)
				if (h->run[s].hook_id < 0)
					slot = &h->run[s];
			if (slot != NULL)
				claim_one(h, slot, &rows[i]);
			hb_exec_row_clear(&rows[i]);
		}
	}
	h->dispatch_needed = true;
}

/* Records the end of the hook in slot and frees the slot. */
static void finish_run(struct hem *h, struct hem_run *r, const char *forced_state)
{
	hb_child *c = &r->child;
	hb_exec_end end = { 0 };

	hb_capture_read(&c->out);
	hb_capture_read(&c->err);
	end.code = 255;
	if (WIFEXITED(c->status))
		end.code = WEXITSTATUS(c->status);
	else if (WIFSIGNALED(c->status))
		end.signal = WTERMSIG(c->status);
	end.timed_out = r->timed_out;
	if (r->timed_out)
		end.code = 255;
	end.state = forced_state ? forced_state : (end.code == 0 ? HB_EXEC_SUCCESS : HB_EXEC_ERROR);
	end.out = c->out.buf;
	end.out_len = c->out.len;
	end.out_truncated = c->out.dropped > 0;
	end.err = c->err.buf;
	end.err_len = c->err.len;
	end.err_truncated = c->err.dropped > 0;
	if (c->exec_error != NULL) {
		/* Recorded as a hook that could not be started always was. */
		hb_log(HB_LOG_WARN, "hook %" PRId64 " execution %" PRId64 ": %s", r->hook_id, r->exec_id, c->exec_error);
		end = (hb_exec_end){ .state = forced_state ? forced_state : HB_EXEC_ERROR, .code = 255,
				     .err = c->exec_error, .err_len = strlen(c->exec_error) };
	}
	end.end_ms = hem_now_ms();
	hb_log(HB_LOG_INFO, "hook %" PRId64 " execution %" PRId64 " %s: code %d%s in %" PRId64 " ms", r->hook_id,
	       r->exec_id, end.state, end.code, r->timed_out ? " (timed out)" : "", end.end_ms - r->start_ms);
	hem_metrics_execution(r->hook_id, end.state);
	hb_metric_observe(HM_DURATION, (double)(end.end_ms - r->start_ms) / 1000.0);
	if (r->blocking)
		hem_verdict_note(h, r->hook_id, r->exec_id, r->seq, strcmp(end.state, HB_EXEC_SUCCESS) == 0, end.err,
				 end.err_len);
	record_end(h, r->hook_id, r->exec_id, &end, r->retention);
	hb_child_release(c);
	r->hook_id = -1;
	h->dispatch_needed = true;
}

size_t hem_children_items(struct hem *h, void *items)
{
	zmq_pollitem_t *it = items;
	size_t n = 0;

	for (size_t i = 0; i < h->nrun; i++) {
		hb_child *c = &h->run[i].child;
		if (h->run[i].hook_id < 0)
			continue;
		if (c->pidfd >= 0)
			it[n++] = (zmq_pollitem_t){ .fd = c->pidfd, .events = ZMQ_POLLIN };
		if (c->out.fd >= 0)
			it[n++] = (zmq_pollitem_t){ .fd = c->out.fd, .events = ZMQ_POLLIN };
		if (c->err.fd >= 0)
			it[n++] = (zmq_pollitem_t){ .fd = c->err.fd, .events = ZMQ_POLLIN };
		if (c->in_fd >= 0)
			it[n++] = (zmq_pollitem_t){ .fd = c->in_fd, .events = ZMQ_POLLOUT };
	}
	return n;
}

/* Marks the running hooks one of whose descriptors the poll found ready.
 * An item is matched by descriptor: one closed since the poll and reused by
 * a hook started meanwhile only costs that hook a needless look. */
static void note_ready(struct hem *h, const zmq_pollitem_t *items, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (items[k].socket != NULL || items[k].revents == 0)
			continue;
		for (size_t i = 0; i < h->nrun; i++) {
			struct hem_run *r = &h->run[i];
			const hb_child *c = &r->child;
			int fd = items[k].fd;

			if (r->hook_id >= 0 && (fd == c->pidfd || fd == c->out.fd || fd == c->err.fd || fd == c->in_fd))
				r->ready = true;
		}
	}
}

void hem_children_poll(struct hem *h, const void *items, size_t n)
{
	hb_error err = { 0 };
	bool batch, ended = false;

	/* Every descriptor is non-blocking: service those the poll found
	 * ready (the others would only answer EAGAIN), then finish the hooks
	 * that have exited and claim their slots for the next queued
	 * executions, all the records in one transaction (each record's own is
	 * a savepoint within it): a hook that ends and the one that takes its
	 * slot share one commit.  A turn with neither opens no transaction. */
	note_ready(h, items, n);
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *r = &h->run[i];
		if (r->hook_id < 0 || !r->ready)
			continue;
		r->ready = false;
		hb_capture_read(&r->child.out);
		hb_capture_read(&r->child.err);
		hb_child_write_stdin(&r->child);
		/* A timed-out hook whose leader died of the SIGTERM keeps its
		 * slot while other members of its group live: the timer sends
		 * them SIGKILL when the grace period ends. */
		r->ended = hb_child_reap(&r->child) && !(r->timed_out && hb_child_group_alive(&r->child));
		ended |= r->ended;
	}
	if (!ended && !h->dispatch_needed && !h->turn_tx)
		return;
	batch = h->turn_tx || hb_store_begin(h->store, &err) == 0;
	if (!batch)
		hb_store_rollback(h->store);
	for (size_t i = 0; i < h->nrun; i++)
		if (h->run[i].hook_id >= 0 && h->run[i].ended)
			finish_run(h, &h->run[i], NULL);
	dispatch_claim(h);
	turn_commit(h, batch, "recording the turn's events, the end of hooks and the start of others");
}

int64_t hem_children_next_timer(struct hem *h)
{
	int64_t now = hem_now_ms(), next = -1;

	if (h->next_due_ms >= 0)
		next = h->next_due_ms > now ? h->next_due_ms - now : 0;
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *r = &h->run[i];
		int64_t t;
		if (r->hook_id < 0 || r->deadline_ms == 0)
			continue;
		t = r->timed_out ? r->kill_ms : r->deadline_ms;
		t = t > now ? t - now : 0;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}

void hem_children_timers(struct hem *h)
{
	int64_t now = hem_now_ms();

	if (h->next_due_ms >= 0 && now >= h->next_due_ms) {
		h->next_due_ms = -1;
		h->dispatch_needed = true;
	}
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *r = &h->run[i];
		if (r->hook_id < 0 || r->deadline_ms == 0)
			continue;
		if (!r->timed_out && now >= r->deadline_ms) {
			hb_log(HB_LOG_WARN, "hook %" PRId64 " execution %" PRId64 " timed out: SIGTERM to its process group",
			       r->hook_id, r->exec_id);
			hb_child_kill(&r->child, SIGTERM);
			hb_metric_add(HM_TIMEOUTS, 1);
			r->timed_out = true;
			r->kill_ms = now + KILL_GRACE_MS;
		} else if (r->timed_out && now >= r->kill_ms) {
			hb_log(HB_LOG_WARN, "hook %" PRId64 " execution %" PRId64 " still running: SIGKILL", r->hook_id,
			       r->exec_id);
			hb_child_kill(&r->child, SIGKILL);
			r->kill_ms = now + KILL_GRACE_MS;
			if (hb_child_reap(&r->child))
				finish_run(h, r, NULL);
		}
	}
}

void hem_children_interrupt(struct hem *h)
{
	for (size_t i = 0; i < h->nrun; i++) {
		struct hem_run *r = &h->run[i];
		if (r->hook_id < 0)
			continue;
		hb_child_kill(&r->child, SIGKILL);
		while (!hb_child_reap(&r->child))
			if (waitpid(r->child.pid, &r->child.status, 0) == r->child.pid)
				r->child.exited = true;
		finish_run(h, r, HB_EXEC_INTERRUPTED);
	}
}
