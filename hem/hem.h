/* hem.h -- the hook execution manager's state, shared by its modules (daemon, executor, control). */
#ifndef HB_HEM_H
#define HB_HEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "hookdef.h"
#include "local.h"
#include "message.h"
#include "resources.h"
#include "schema.h"
#include "xmlcodec.h"
#include "child.h"
#include "store.h"
#include "hookindex.h"

/* The keys of hem.conf with their defaults (DESIGN section 10). */
extern const hb_config_key hb_hem_config_keys[];

/* Checks every value of cfg (numbers, ranges, the resources file) without
 * opening anything else. */
int hb_hem_check(const hb_config *cfg, hb_error *err);

/* Runs hem on cfg until SIGTERM: opens the database, binds the control
 * endpoint, subscribes, replays what it missed and runs hooks.  Returns 0
 * after a clean stop, a negative code when it could not start. */
int hb_hem_run(const hb_config *cfg, hb_error *err);

/* A registered hook, as hem keeps it in memory (the database has it too). */
struct hem_hook {
	int64_t id;
	hb_hookdef *def;   /* owned */
	uint64_t filtered; /* events whose FILTER was false (or failed) since hem started */
};

/* A hook process hem is running. */
struct hem_launch;

struct hem_run {
	int64_t hook_id;
	int64_t exec_id;
	hb_child child;
	int64_t start_ms;
	int64_t deadline_ms;   /* 0: no timeout */
	int64_t kill_ms;       /* when SIGKILL follows the SIGTERM of a timeout */
	bool timed_out;
	bool ended;            /* reaped this turn: its record is completed in the turn's transaction */
	bool ready;            /* one of its descriptors was ready in this turn's poll */
	int64_t retention;
	bool blocking;         /* an execution of a BLOCKING hook (it may use a reserved slot) */
	int64_t seq;           /* the triggering event's, -1 when none */
	struct hem_launch *launch; /* claimed: marked RUNNING in the open transaction, to start once
				    * it is committed (executor.c); NULL once started */
};

struct hem_verdicts;

#define HEM_LOCAL_REQUEST_MAX 4096   /* bytes of a request on the local socket (a VERDICT needs 40) */
/* Poll items the loop needs with nrun slots: the bus, the control socket,
 * the local socket's listener and connections, four per running hook. */
#define HEM_POLL_ITEMS(nrun) (2 + 1 + HB_LOCAL_CONNS_MAX + 4 * (nrun))

struct hem {
	const hb_config *cfg;
	hb_store *store;
	hb_resources *res;
	hb_schema *msg_schema;
	hb_xml_codec *codec;         /* parses every bus message and writes out their bodies */
	void *ctx;
	void *sub;
	void *ctl;
	hb_local *local;             /* LOCAL_ENDPOINT (VERDICT only), or NULL */
	const char *pub_command;     /* PUBLISHER_COMMAND_ENDPOINT */
	struct hb_curve_client *curve; /* CURVE client keys for the publisher, or NULL */
	char *base_path;
	char *remote_base_path;      /* REMOTE_HOOK_BASE_PATH */
	char **remote_shell;         /* REMOTE_SHELL split into argv (hb_args_expand) */
	size_t remote_shell_n;
	int64_t concurrency;         /* slots of ordinary executions */
	int64_t blocking_concurrency; /* BLOCKING_CONCURRENCY: further slots only blocking ones take */
	int64_t default_timeout;
	int64_t retention;
	int64_t output_limit;
	size_t max_message;
	uid_t uid;
	gid_t gid;
	struct hem_hook *hooks;      /* sorted by id */
	size_t nhooks;
	struct hem_hook_index index; /* the hooks by subscription prefix (hookindex.c) */
	char **subs;                 /* prefixes subscribed now, sorted */
	size_t nsubs;
	struct hem_run *run;         /* concurrency + blocking_concurrency slots; hook_id < 0 when free */
	size_t nrun;
	int64_t last_seq;
	int64_t last_bus_ms;         /* when the bus last said something */
	int64_t next_due_ms;         /* when the next delayed retry is due; -1 when none waits */
	uint64_t events_filtered;    /* hook runs left out because a FILTER was false (or failed) */
	struct hem_verdicts *verdicts; /* VERDICT requests waiting, recent votes (verdict.c) */
	bool stopping;
	bool dispatch_needed;
	bool turn_tx;                /* the bus's events of this loop turn are in an open transaction,
	                              * which hem_children_poll() commits with the turn's other records */
};

/* Milliseconds since the epoch. */
int64_t hem_now_ms(void);

/* Returns the hook with id, or NULL. */
struct hem_hook *hem_hook_find(struct hem *h, int64_t id);

/* Re-derives the subscription prefixes from the hooks and subscribes or
 * unsubscribes the difference at once. */
int hem_subscriptions_sync(struct hem *h, hb_error *err);

/* Loads every hook of the database into memory. */
int hem_hooks_load(struct hem *h, hb_error *err);

/* Adds, replaces or removes (def NULL) the in-memory hook id, taking def. */
int hem_hook_set(struct hem *h, int64_t id, hb_hookdef *def, hb_error *err);

/* Rebuilds a hook definition from its stored row. */
int hem_hookdef_from_row(struct hem *h, const hb_hook_row *row, hb_hookdef **out, hb_error *err);

/* Queues the executions of every hook that one event triggers (all in one
 * transaction with the new last sequence number). */
int hem_event_queue(struct hem *h, const hb_message *m, hb_error *err);

/* Queues a retry of an execution record; *exec_id is the new record's id. */
int hem_retry(struct hem *h, int64_t hook_id, int64_t exec_id, int64_t *new_exec, hb_error *err);

/* Starts queued executions while slots are free: marks them RUNNING in one
 * transaction, then starts their hooks once it is committed. */
void hem_dispatch(struct hem *h);

/* Handles the readiness of running hooks' descriptors (items, n: this
 * turn's poll items, of which those of hem_children_items() count), records
 * the ends of those that exited and, in the same commit, claims the free
 * slots for the queue (as hem_dispatch() does) when a dispatch is needed. */
void hem_children_poll(struct hem *h, const void *items, size_t n);

/* Fills poll items for the running hooks from items[0] on; returns how many. */
size_t hem_children_items(struct hem *h, void *items);

/* Milliseconds until the next hook timer or delayed retry, or -1 when none
 * is set. */
int64_t hem_children_next_timer(struct hem *h);

/* Applies timeouts whose time has come. */
void hem_children_timers(struct hem *h);

/* The number of hooks running. */
size_t hem_running(const struct hem *h);

/* Kills every running hook and records it INTERRUPTED (at shutdown). */
void hem_children_interrupt(struct hem *h);

/* After the turn's transaction failed to commit: forgets that bus_read()
 * had one open and takes last_seq back from the database. */
void hem_turn_rollback(struct hem *h);

/* Answers the control requests waiting on the control socket. */
void hem_control_handle(struct hem *h);

/* Takes the complete requests of the local socket (LOCAL_ENDPOINT): a
 * VERDICT is answered as on the control socket, anything else is refused. */
void hem_local_handle(struct hem *h);

/* Sends one answer on the control socket to the client whose ROUTER
 * identity is id (idlen bytes; with the empty delimiter frame of a REQ
 * client when delimiter): "OK", payload when ok, else "ERROR", payload. */
void hem_control_reply(struct hem *h, const void *id, size_t idlen, bool delimiter, bool ok, const char *payload);

/* Asks the publisher for every event after last_seq and queues their hooks
 * (a request to PUBLISHER_COMMAND_ENDPOINT, answered at once when the
 * publisher runs). */
int hem_replay(struct hem *h, hb_error *err);

/* Creates the verdict state of h (no request waiting); freed by
 * hem_verdicts_free, which accepts NULL and answers only the local socket's
 * waiting requests ("hem stopped"), whose descriptors it holds. */
int hem_verdicts_new(struct hem *h, hb_error *err);
void hem_verdicts_free(struct hem *h);

/* Handles VERDICT <seq> <timeout-ms> from the client id (see
 * hem_control_reply): answers at once when the verdict is known, else keeps
 * the request to answer from hem_verdicts_poll().  Returns 0, or a negative
 * code with err set for a request to refuse at once (ERROR). */
int hem_verdict_request(struct hem *h, const void *id, size_t idlen, bool delimiter, int64_t seq,
			int64_t timeout_ms, hb_error *err);

/* The same for a VERDICT of the local socket's connection fd, which is
 * answered (hem_local_reply()) and closed then, and left to the caller on
 * an error.  At most 256 of them wait at once. */
int hem_verdict_request_local(struct hem *h, int fd, int64_t seq, int64_t timeout_ms, hb_error *err);

/* Sends one answer on a connection of the local socket, "OK payload" when
 * ok else "ERROR payload" (cut to what one answer holds), and closes it. */
void hem_local_reply(int fd, bool ok, const char *payload);

/* Notes the vote of a blocking execution that has ended (or was recorded
 * ended at once): ok allows, else reason (stderr, len bytes) refuses.  Kept
 * in memory for the VERDICT requests that come after a LOG_RETENTION that
 * prunes the record at once. */
void hem_verdict_note(struct hem *h, int64_t hook_id, int64_t exec_id, int64_t seq, bool ok, const char *reason,
		      size_t len);

/* Answers the waiting VERDICT requests that can be answered (decided, or
 * timed out), and asks the publisher to replay when a request waits for an
 * event hem has not received.  Called on every turn of the poll loop. */
void hem_verdicts_poll(struct hem *h);

/* Milliseconds until a waiting VERDICT request needs hem_verdicts_poll()
 * (its deadline, or a replay to ask), -1 when none waits. */
int64_t hem_verdicts_next_timer(struct hem *h);

#endif
