
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_CLASSIFY_H_INCLUDED_
#define _NGX_EXA_CLASSIFY_H_INCLUDED_


/*
 * The protocol classifier: bytes in, protocol and flags out.  No nginx
 * dependency.  docs/protocols.md explains every rule.
 */


#include <stddef.h>

#include "ngx_exa_table.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


typedef enum {
    NGX_EXA_PROTO_OTHER = 0,
    NGX_EXA_PROTO_MAPI,
    NGX_EXA_PROTO_RPC,
    NGX_EXA_PROTO_EWS,
    NGX_EXA_PROTO_EAS,
    NGX_EXA_PROTO_OWA,
    NGX_EXA_PROTO_ECP,
    NGX_EXA_PROTO_OAB,
    NGX_EXA_PROTO_AUTODISCOVER,
    NGX_EXA_PROTO_POWERSHELL,
    NGX_EXA_PROTO_N
} ngx_exa_proto_e;


/* the request would be routed by Exchange to another backend on purpose */
#define NGX_EXA_CONFUSED        0x01


/* what a header, parameter or cookie name is to Exchange's routing */
#define NGX_EXA_PARAM_NONE      0
#define NGX_EXA_PARAM_EMAIL     1       /* Email: an explicit logon */
#define NGX_EXA_PARAM_LOGON     2       /* X-OWA-ExplicitLogonUser */
#define NGX_EXA_PARAM_ROUTING   3       /* X-BEResource and the like */


typedef struct {
    /* nginx's normalised path ($uri): decoded, merged, dot segments gone */
    const unsigned char   *uri;
    size_t                 uri_len;

    /*
     * the path as it goes to Exchange (the client's own bytes, unless
     * nginx rewrote the request), and the query string, still encoded
     */
    const unsigned char   *path;
    size_t                 path_len;
    const unsigned char   *args;
    size_t                 args_len;

    /* the values of the Cookie headers */
    const ngx_exa_str_t   *cookies;
    size_t                 ncookies;

    /* the values of the X-OWA-ExplicitLogonUser headers */
    const ngx_exa_str_t   *logons;
    size_t                 nlogons;

    /* headers only Exchange's own servers send (X-BEResource, ...) */
    unsigned               routing;

    /* the body is a form (application/x-www-form-urlencoded, multipart) */
    unsigned               form;
} ngx_exa_request_t;


typedef struct {
    int                    protocol;    /* what Exchange will serve */
    int                    path;        /* what the path alone says */
    unsigned               flags;
    const char            *why;         /* static text, with CONFUSED */
} ngx_exa_class_t;


size_t ngx_exa_classify_work(const ngx_exa_request_t *req);
void ngx_exa_classify(const ngx_exa_request_t *req, unsigned char *work,
    size_t worklen, ngx_exa_class_t *cls);
int ngx_exa_classify_fast(const ngx_exa_request_t *req, ngx_exa_class_t *cls);
int ngx_exa_classify_path(const unsigned char *path, size_t len,
    unsigned *folded);
int ngx_exa_header_kind(const unsigned char *name, size_t len);
int ngx_exa_form_type(const unsigned char *value, size_t len);
const char *ngx_exa_protocol_name(int protocol);
int ngx_exa_protocol_by_name(const unsigned char *p, size_t len);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_CLASSIFY_H_INCLUDED_ */
