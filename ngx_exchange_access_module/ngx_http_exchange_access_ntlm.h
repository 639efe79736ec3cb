
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


/*
 * exchange_access_ntlm: upstream connections that belong to one HTTP/1.x
 * client connection.  What the rest of the module asks of it:
 *
 * _kept(c)    the number of the upstream connection kept for client
 *             connection c between its requests, 0 if none is;
 * _drop(c)    closes what is kept for c, and keeps nothing for c any more;
 * _answered   if set, called with the number of the upstream connection
 *             and the status of the upstream's answer when a request of a
 *             client connection that keeps upstream connections is done
 *             with one that the upstream answered, whether it is kept or
 *             not.
 *
 * Numbers are unique in a worker and never reused, so that what was
 * learnt on one upstream connection is never taken for another's.
 */


typedef void (*ngx_http_exchange_access_ntlm_answered_pt)(
    ngx_http_request_t *r, ngx_uint_t serial, ngx_uint_t status);


ngx_uint_t ngx_http_exchange_access_ntlm_kept(ngx_connection_t *c);
void ngx_http_exchange_access_ntlm_drop(ngx_connection_t *c);


/*
 * Between its two halves: the directive and the configuration
 * (ngx_http_exchange_access_ntlm_conf.c) wrap the peer callbacks of an
 * upstream block with ngx_http_exchange_access_ntlm_init_peer()
 * (ngx_http_exchange_access_ntlm.c).
 */

typedef struct {
    ngx_flag_t                        enable;
    ngx_msec_t                        timeout;
    ngx_uint_t                        keepalive;   /* unsigned:1 */
    ngx_uint_t                        keepalive_off;
    ngx_uint_t                        warned;      /* per worker */
    ngx_http_upstream_srv_conf_t     *upstream;
    ngx_http_upstream_init_peer_pt    original_init_peer;
} ngx_http_exchange_access_ntlm_srv_conf_t;


ngx_int_t ngx_http_exchange_access_ntlm_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);


extern ngx_http_exchange_access_ntlm_answered_pt
    ngx_http_exchange_access_ntlm_answered;
extern ngx_module_t  ngx_http_exchange_access_ntlm_module;


NGX_EXA_HIDDEN_END


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_ */
