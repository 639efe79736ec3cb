
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_NAME_H_INCLUDED_
#define _NGX_EXA_NAME_H_INCLUDED_


/*
 * Name normalisation: turns the user name a credential carries into the
 * key the allow-list is searched with and the domain it is from, and a
 * line of a list into a key.  No nginx dependency.
 *
 *   credential         key                 domain
 *   DOMAIN\user        "user"              the group DOMAIN names
 *   user               "user"              the first group
 *   user@suffix        "user@suffix"       (a whole UPN: none)
 *
 *   list line          key
 *   DOMAIN\user        "domain\user"       (DOMAIN a NetBIOS name)
 *   user               "user"              (the first domain's)
 *   user@suffix        "user@suffix"
 *
 * ASCII letters are lowered; other UTF-8 is kept byte for byte.  A key
 * buffer holds NGX_EXA_KEY_MAX bytes, all of which may be written.
 */


#include <stddef.h>

#include "ngx_exa_table.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


typedef enum {
    NGX_EXA_NAME_OK = 0,
    NGX_EXA_NAME_EMPTY,
    NGX_EXA_NAME_INVALID,
    NGX_EXA_NAME_FOREIGN,
    NGX_EXA_NAME_NOT_NETBIOS
} ngx_exa_name_rc_e;


/*
 * The domains of exchange_access_domain, in groups: a NetBIOS name, then
 * its DNS names and UPN suffixes.  domains[] holds every name in lower
 * case; groups[i] is the index in domains[] of the NetBIOS name of the
 * group domains[i] belongs to (0: the first group).  No domains: any
 * domain is accepted; groups NULL: every name is of the first group.
 */

typedef struct {
    const ngx_exa_str_t   *domains;
    size_t                 ndomains;
    const size_t          *groups;
} ngx_exa_name_conf_t;


#define NGX_EXA_NAME_ANY_DOMAIN  ((size_t) -1)


int ngx_exa_name_key(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen);
int ngx_exa_name_resolve(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen, size_t *group);
int ngx_exa_name_resolve_full(const ngx_exa_name_conf_t *nc,
    const unsigned char *domain, size_t dlen, const unsigned char *user,
    size_t ulen, unsigned char *key, size_t *klen, size_t *group);
int ngx_exa_name_entry(const unsigned char *line, size_t len,
    unsigned char *key, size_t *klen);
int ngx_exa_netbios_valid(const unsigned char *p, size_t len);
int ngx_exa_utf8_valid(const unsigned char *p, size_t len);
size_t ngx_exa_log_escape(unsigned char *dst, const unsigned char *src,
    size_t len);
const char *ngx_exa_name_strerror(int rc);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_NAME_H_INCLUDED_ */
