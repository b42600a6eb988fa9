/* args.h -- a hook's argument vector: ARGUMENTS split on blanks, then $API and $TEMPLATE filled in. */
#ifndef HB_ARGS_H
#define HB_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Most arguments one hook may get, and most bytes they may hold in all
 * (each argument's length plus its terminating NUL). */
#define HB_ARGS_MAX_COUNT 4096
#define HB_ARGS_MAX_BYTES (16u * 1024 * 1024)

/*
 * Builds the argument vector of a hook (DESIGN sections 4 and 8) from its
 * ARGUMENTS value.  arguments is split on blanks (space, tab, newline and
 * carriage return); double quotes group, may start or end inside a word
 * (a"b c"d is one argument, ab cd) and are removed; "" is an empty argument;
 * inside quotes \" stands for a literal quote, and no other byte is special
 * (outside quotes a backslash is an ordinary byte; as in the template syntax
 * a quoted group cannot end with a backslash).  Only after splitting is
 * every occurrence of $API in an argument replaced with api_b64 and of
 * $TEMPLATE with template_b64 (the empty string when the value is NULL), so
 * event data can never add, remove or split arguments; nothing else ($(...),
 * backticks, ;, |, other $NAMEs) has any meaning.  A NULL or blank arguments
 * gives zero arguments.
 *
 * On success *argv_out receives a new NULL-terminated array of new strings
 * (never NULL, even for zero arguments) that the caller frees with
 * hb_args_free(), and *argc_out (which may be NULL) its length.  An
 * unterminated quote is -HB_EINVAL; more than HB_ARGS_MAX_COUNT arguments
 * or more than HB_ARGS_MAX_BYTES in all after expansion is -HB_ETOOBIG.
 * On error the outputs are untouched.
 */
int hb_args_expand(const char *arguments, const char *api_b64, const char *template_b64,
		   char ***argv_out, size_t *argc_out, hb_error *err);

/* Whether arguments may name $API or $TEMPLATE, so that hb_args_expand()
 * needs the event's values: it holds a '$' (no quoting makes one). */
bool hb_args_take_event(const char *arguments);

/* Frees an array returned by hb_args_expand() and its strings; accepts NULL. */
void hb_args_free(char **argv);

/*
 * Returns the "expanded argument string" of an execution record (DESIGN
 * section 4): the argc elements of argv joined by one space ("" when argc is
 * 0, in which case argv may be NULL).  It is also what a hook with
 * ARGUMENTS_STDIN = yes reads on its standard input.  The joining loses the
 * boundaries of arguments that hold blanks, which is why hem never splits it
 * again.  The caller frees the new string; NULL when out of memory.
 */
char *hb_args_join(char *const *argv, size_t argc);

#endif
