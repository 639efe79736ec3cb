
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_NAME_H_INCLUDED_
#define _NGX_EXA_NAME_H_INCLUDED_


/*
 * Name normalisation: turns the user name a credential carries (or a line
 * of a list) into the key the allow-list is searched with.  No nginx
 * dependency.
 *
 *   DOMAIN\user        -> "user"           (sAMAccountName)
 *   user               -> "user"           (the server's default domain)
 *   user@suffix        -> "user@suffix"    (userPrincipalName)
 *
 * ASCII letters are lowered; other UTF-8 is kept byte for byte.
 */


#include <stddef.h>

#include "ngx_exa_table.h"


typedef enum {
    NGX_EXA_NAME_OK = 0,
    NGX_EXA_NAME_EMPTY,
    NGX_EXA_NAME_INVALID,
    NGX_EXA_NAME_FOREIGN
} ngx_exa_name_rc_e;


typedef struct {
    /* lower-case NetBIOS domains, DNS domains and UPN suffixes; none: any */
    const ngx_exa_str_t   *domains;
    size_t                 ndomains;
} ngx_exa_name_conf_t;


int ngx_exa_name_key(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen);
int ngx_exa_utf8_valid(const unsigned char *p, size_t len);
size_t ngx_exa_log_escape(unsigned char *dst, const unsigned char *src,
    size_t len);
const char *ngx_exa_name_strerror(int rc);


#endif /* _NGX_EXA_NAME_H_INCLUDED_ */
