
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_LDAP_H_INCLUDED_
#define _NGX_EXA_LDAP_H_INCLUDED_


/*
 * Pure helpers of the LDAP source: DN normalisation, filter escaping and
 * building, ranged attribute names.  No nginx and no libldap dependency.
 */


#include <stddef.h>
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


/* "member;range=1500-2999": start 1500, end 2999; "member;range=0-*" last */
typedef struct {
    size_t                 start;
    size_t                 end;
    int                    last;
} ngx_exa_range_t;


int ngx_exa_ldap_range(const char *attr, const char *base,
    ngx_exa_range_t *range);
size_t ngx_exa_ldap_dn_norm(const unsigned char *dn, size_t len,
    unsigned char *out);
size_t ngx_exa_ldap_escape(const unsigned char *v, size_t len,
    unsigned char *out);
int ngx_exa_ldap_filter_valid(const unsigned char *f, size_t len);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_LDAP_H_INCLUDED_ */
