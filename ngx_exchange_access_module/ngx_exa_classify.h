
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_CLASSIFY_H_INCLUDED_
#define _NGX_EXA_CLASSIFY_H_INCLUDED_


/*
 * The protocol classifier: bytes in, protocol and flags out.  No nginx
 * dependency.
 */


#include <stddef.h>


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


typedef struct {
    int                    protocol;    /* ngx_exa_proto_e */
    unsigned               flags;
    const char            *why;         /* static text, when flags != 0 */
} ngx_exa_class_t;


void ngx_exa_classify(const unsigned char *uri, size_t len,
    const unsigned char *args, size_t alen, ngx_exa_class_t *cls);
const char *ngx_exa_protocol_name(int protocol);
int ngx_exa_protocol_by_name(const unsigned char *p, size_t len);


#endif /* _NGX_EXA_CLASSIFY_H_INCLUDED_ */
