/* xml.c -- the libxml2 calls hookbus makes, with its errors turned into hb_error messages. */
#include "xml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <libxml/xpath.h>

#define HB_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static int xml_error(xmlParserCtxtPtr ctxt, hb_error *err)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[512];
	size_t n;

	if (e == NULL || e->message == NULL)
		return hb_error_set(err, -HB_EINVAL, "malformed XML");
	snprintf(msg, sizeof(msg), "%s", e->message);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	return hb_error_set(err, -HB_EINVAL, "malformed XML at line %d: %s", e->line, msg);
}

int hb_xml_parse_with(xmlParserCtxtPtr ctxt, const char *buf, size_t len, xmlDocPtr *out, hb_error *err)
{
	xmlDocPtr doc;

	if (len > (size_t)INT32_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "XML document too large");
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, HB_XML_OPTIONS);
	if (doc == NULL || !ctxt->wellFormed) {
		int rc = xml_error(ctxt, err);
		xmlFreeDoc(doc);
		return rc;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return hb_error_set(err, -HB_EINVAL, "XML with a document type declaration is refused");
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		return hb_error_set(err, -HB_EINVAL, "XML document has no root element");
	}
	*out = doc;
	return 0;
}

int hb_xml_parse(const char *buf, size_t len, xmlDocPtr *out, hb_error *err)
{
	xmlParserCtxtPtr ctxt;
	int rc;

	if (len > (size_t)INT32_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "XML document too large");
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = hb_xml_parse_with(ctxt, buf, len, out, err);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

int hb_xml_parse_element(xmlDocPtr doc, const char *buf, size_t len, xmlNodePtr *out, hb_error *err)
{
	hb_autodoc xmlDocPtr frag = NULL;
	xmlNodePtr copy;
	int rc;

	rc = hb_xml_parse(buf, len, &frag, err);
	if (rc < 0)
		return rc;
	copy = xmlDocCopyNode(xmlDocGetRootElement(frag), doc, 1);
	if (copy == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	*out = copy;
	return 0;
}

xmlNodePtr hb_xml_add(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

xmlNodePtr hb_xml_addf(xmlNodePtr parent, const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return hb_xml_add(parent, name, buf);
}

xmlNodePtr hb_xml_child(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node ? node->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0)
			return c;
	return NULL;
}

char *hb_xml_child_text(xmlNodePtr node, const char *name)
{
	xmlNodePtr c = hb_xml_child(node, name);
	xmlChar *content;
	char *s;

	if (c == NULL)
		return NULL;
	content = xmlNodeGetContent(c);
	s = strdup(content ? (const char *)content : "");
	xmlFree(content);
	return s;
}

char *hb_xml_xpath_str(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	char *s = NULL;

	if (ctx == NULL)
		return NULL;
	obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (obj != NULL) {
		if (obj->type == XPATH_NODESET) {
			if (obj->nodesetval != NULL && obj->nodesetval->nodeNr > 0) {
				xmlChar *c = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
				s = strdup(c ? (const char *)c : "");
				xmlFree(c);
			}
		} else {
			xmlChar *c = xmlXPathCastToString(obj);
			if (c != NULL)
				s = strdup((const char *)c);
			xmlFree(c);
		}
		xmlXPathFreeObject(obj);
	}
	xmlXPathFreeContext(ctx);
	return s;
}

char *hb_xml_dump(xmlNodePtr node, size_t *len)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlSaveCtxtPtr save;
	char *s = NULL;

	if (buf == NULL)
		return NULL;
	save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_NO_DECL);
	if (save != NULL) {
		xmlSaveTree(save, node);
		xmlSaveClose(save);
		s = strndup((const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
		if (s != NULL && len != NULL)
			*len = strlen(s);
	}
	xmlBufferFree(buf);
	return s;
}
