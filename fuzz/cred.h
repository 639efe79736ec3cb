/*
 * Two parses of a credential give the same answer.
 */

#ifndef _CRED_H_INCLUDED_
#define _CRED_H_INCLUDED_

#include <string.h>

#include "ngx_exa_credential.h"


static int
ngx_exa_cred_same(const ngx_exa_cred_t *a, const ngx_exa_cred_t *b)
{
    return a->status == b->status && a->scheme == b->scheme
           && strcmp(a->detail, b->detail) == 0
           && a->user_len == b->user_len && a->domain_len == b->domain_len
           && memcmp(a->user, b->user, a->user_len) == 0
           && memcmp(a->domain, b->domain, a->domain_len) == 0;
}

#endif
