/* oci_doc.h -- the <CONTAINER> object document of a CONTAINER event (DESIGN section 3). */
#ifndef HB_OCI_DOC_H
#define HB_OCI_DOC_H

#include <libxml/tree.h>

#include "error.h"
#include "oci_stage.h"
#include "oci_state.h"

/*
 * Builds the <CONTAINER> document of a container at a stage into *out (freed
 * with xmlFreeDoc): the runtime's state (OCI_VERSION, ID, STATUS, PID and
 * BUNDLE when given), STAGE (the OCI spelling), ANNOTATIONS, and, when c is
 * non-NULL, what config.json says (HOSTNAME, PROCESS, ROOT, MOUNTS,
 * NAMESPACES).  Text is escaped by libxml2; characters XML 1.0 cannot carry
 * (C0 controls but tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD.
 */
int hb_oci_doc_build(const hb_oci_state *s, const hb_oci_config *c, const hb_oci_stage *stage,
		     xmlDocPtr *out, hb_error *err);

#endif
