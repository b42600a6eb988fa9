/* args.h -- a verb's own command line: its options and positional arguments, checked against its description. */
#ifndef HB_CLI_ARGS_H
#define HB_CLI_ARGS_H

#include "verbs.h"

/*
 * Parses the argc words of argv (what followed the verb, global options
 * already taken out) against verb's options and argument counts into a,
 * whose pos array the caller provides with room for argc entries.  Options
 * are "--name VALUE", "--name=VALUE" or the alias; "--" ends the options and
 * "-" is an argument.  An unknown or repeated option, a missing value or the
 * wrong number of arguments is -HB_EINVAL naming it.
 */
int hb_cli_args_parse(const hb_cli_verb *verb, int argc, char **argv, hb_cli_args *a, hb_error *err);

#endif
