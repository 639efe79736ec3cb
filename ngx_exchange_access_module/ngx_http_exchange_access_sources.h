
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * The sources of allow-lists, one line each: NAME stands for the
 * ngx_http_exchange_access_source_t ngx_http_exchange_access_NAME_source
 * that the source's own file defines.  Included by
 * ngx_http_exchange_access_list.c only, with the macro defined.
 */

NGX_HTTP_EXCHANGE_ACCESS_SOURCE(file)
NGX_HTTP_EXCHANGE_ACCESS_SOURCE(ldap)
