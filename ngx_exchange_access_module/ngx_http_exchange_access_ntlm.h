
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * exchange_access_ntlm: upstream connections that belong to one HTTP/1.x
 * client connection.  What the rest of the module asks of it:
 *
 * _serial(r)  the number of the pinned upstream connection that serves r
 *             now (a response header is being sent), 0 if r is not served
 *             by one;
 * _kept(c)    the number of the upstream connection kept for client
 *             connection c between its requests, 0 if none is;
 * _drop(c)    closes what is kept for c, and keeps nothing for c any more.
 *
 * Numbers are unique in a worker and never reused, so that what was
 * learnt on one upstream connection is never taken for another's.
 */


ngx_uint_t ngx_http_exchange_access_ntlm_serial(ngx_http_request_t *r);
ngx_uint_t ngx_http_exchange_access_ntlm_kept(ngx_connection_t *c);
void ngx_http_exchange_access_ntlm_drop(ngx_connection_t *c);


extern ngx_module_t  ngx_http_exchange_access_ntlm_module;


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_NTLM_H_INCLUDED_ */
