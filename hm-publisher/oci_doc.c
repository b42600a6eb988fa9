/* oci_doc.c -- turns a container's state and config.json into the <CONTAINER> XML document. */
#include "oci_doc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "xml.h"

/* Returns a copy of the UTF-8 string s in which every character XML 1.0
 * cannot carry is replaced by U+FFFD; NULL when out of memory.  s is valid
 * UTF-8 (jansson guarantees it). */
static char *xml_safe(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;

	if (out == NULL)
		return NULL;
	while (*p) {
		bool bad = (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ||
			   (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF));
		if (bad) {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
			p += *p < 0x20 ? 1 : 3;
		} else {
			*o++ = (char)*p++;
		}
	}
	*o = '\0';
	return out;
}

/* Adds <name>text</name> (text made XML-safe; NULL = empty) to parent. */
static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	hb_autofree char *safe = NULL;

	if (parent == NULL)
		return NULL;
	if (text != NULL && (safe = xml_safe(text)) == NULL)
		return NULL;
	return hb_xml_add(parent, name, safe);
}

static xmlNodePtr add_bool(xmlNodePtr parent, const char *name, int v)
{
	return add(parent, name, v ? "YES" : "NO");
}

/* Adds <list_name><item_name>v</item_name>...</list_name>. */
static xmlNodePtr add_list(xmlNodePtr parent, const char *list_name, const char *item_name,
			   const hb_oci_strv *sv)
{
	xmlNodePtr list = add(parent, list_name, NULL);

	for (size_t i = 0; list != NULL && i < sv->n; i++)
		if (add(list, item_name, sv->v[i]) == NULL)
			return NULL;
	return list;
}

static bool add_state(xmlNodePtr root, const hb_oci_state *s, const hb_oci_stage *stage)
{
	xmlNodePtr anns;
	bool ok = add(root, "OCI_VERSION", s->oci_version) && add(root, "ID", s->id) &&
		  add(root, "STATUS", s->status);

	if (ok && s->pid >= 0)
		ok = hb_xml_addf(root, "PID", "%lld", s->pid) != NULL;
	if (ok && s->bundle != NULL)
		ok = add(root, "BUNDLE", s->bundle) != NULL;
	ok = ok && add(root, "STAGE", stage->oci);
	anns = ok ? add(root, "ANNOTATIONS", NULL) : NULL;
	for (size_t i = 0; anns != NULL && i < s->nannotations; i++) {
		xmlNodePtr a = add(anns, "ANNOTATION", NULL);
		if (!add(a, "KEY", s->annotations[i].key) || !add(a, "VALUE", s->annotations[i].value))
			return false;
	}
	return anns != NULL;
}

static bool add_process(xmlNodePtr root, const hb_oci_config *c)
{
	xmlNodePtr proc = add(root, "PROCESS", NULL);

	if (proc == NULL || add_list(proc, "ARGS", "ARG", &c->args) == NULL)
		return false;
	if (c->has_user) {
		xmlNodePtr user = add(proc, "USER", NULL);
		if (user == NULL || !hb_xml_addf(user, "UID", "%llu", c->uid) ||
		    !hb_xml_addf(user, "GID", "%llu", c->gid) ||
		    !add_list(user, "ADDITIONAL_GIDS", "GID", &c->additional_gids))
			return false;
	}
	if (c->no_new_privileges >= 0 && !add_bool(proc, "NO_NEW_PRIVILEGES", c->no_new_privileges))
		return false;
	if (c->has_capabilities) {
		xmlNodePtr caps = add(proc, "CAPABILITIES", NULL);
		if (caps == NULL || !add_list(caps, "BOUNDING", "CAPABILITY", &c->cap_bounding) ||
		    !add_list(caps, "EFFECTIVE", "CAPABILITY", &c->cap_effective))
			return false;
	}
	return true;
}

static bool add_config(xmlNodePtr root, const hb_oci_config *c)
{
	xmlNodePtr r, mounts, nss;

	if (c->hostname != NULL && !add(root, "HOSTNAME", c->hostname))
		return false;
	if (!add_process(root, c))
		return false;
	if (c->root_path != NULL || c->root_readonly >= 0) {
		r = add(root, "ROOT", NULL);
		if (r == NULL || (c->root_path != NULL && !add(r, "PATH", c->root_path)) ||
		    (c->root_readonly >= 0 && !add_bool(r, "READONLY", c->root_readonly)))
			return false;
	}
	mounts = add(root, "MOUNTS", NULL);
	for (size_t i = 0; mounts != NULL && i < c->nmounts; i++) {
		const hb_oci_mount *m = &c->mounts[i];
		xmlNodePtr mt = add(mounts, "MOUNT", NULL);
		if (!add(mt, "DESTINATION", m->destination) || (m->type && !add(mt, "TYPE", m->type)) ||
		    (m->source && !add(mt, "SOURCE", m->source)) ||
		    !add_list(mt, "OPTIONS", "OPTION", &m->options))
			return false;
	}
	nss = mounts ? add(root, "NAMESPACES", NULL) : NULL;
	for (size_t i = 0; nss != NULL && i < c->nnamespaces; i++) {
		xmlNodePtr ns = add(nss, "NAMESPACE", NULL);
		if (!add(ns, "TYPE", c->namespaces[i].type) ||
		    (c->namespaces[i].path && !add(ns, "PATH", c->namespaces[i].path)))
			return false;
	}
	return nss != NULL;
}

int hb_oci_doc_build(const hb_oci_state *s, const hb_oci_config *c, const hb_oci_stage *stage,
		     xmlDocPtr *out, hb_error *err)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc ? xmlNewDocNode(doc, NULL, BAD_CAST "CONTAINER", NULL) : NULL;
	bool ok;

	if (root != NULL)
		xmlDocSetRootElement(doc, root);
	ok = root != NULL && add_state(root, s, stage) && (c == NULL || add_config(root, c));
	if (!ok) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	*out = doc;
	return 0;
}
