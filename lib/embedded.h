/* embedded.h -- the files built into the programs by cmake/embed.cmake (XSDs, SQL). */
#ifndef HB_EMBEDDED_H
#define HB_EMBEDDED_H

#include <stddef.h>

/* One embedded file; tables end with an entry whose name is NULL. */
struct hb_embedded {
	const char *name;
	const char *text;
	size_t len;
};

extern const struct hb_embedded hb_schema_texts[]; /* the XSDs of schema/ */
extern const struct hb_embedded hb_sql_texts[];    /* the SQL of db/, sorted by name */

#endif
