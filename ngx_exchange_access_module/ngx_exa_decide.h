
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_DECIDE_H_INCLUDED_
#define _NGX_EXA_DECIDE_H_INCLUDED_


#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


/*
 * The decision on a request, as README.md's table gives it: from what is
 * known of the request (its classification, the client's address, its
 * credential, the identity of its connection, its user's name, the
 * list's answer) to pass, allow, deny or audit, and the reason.  No
 * nginx dependency.
 *
 * Some facts cost work to find out (reading a credential, looking a name
 * up), and most requests are decided without them.  They start unknown
 * (0); while one is needed, ngx_exa_decide() says which, the caller finds
 * it out and asks again:
 *
 *     while (ngx_exa_decide(&facts, &v) == NGX_EXA_DECISION_NONE) {
 *         switch (v.need) { ... set facts.internal, .header, ... }
 *     }
 */


typedef enum {
    NGX_EXA_DECISION_NONE = 0,       /* not yet: a fact is needed */
    NGX_EXA_DECISION_PASS,           /* nothing to decide (on yet) */
    NGX_EXA_DECISION_ALLOW,          /* a member */
    NGX_EXA_DECISION_DENY,
    NGX_EXA_DECISION_AUDIT,          /* would deny; forwarded */
    NGX_EXA_DECISION_N
} ngx_exa_decision_e;


typedef enum {
    NGX_EXA_REASON_NONE = 0,
    NGX_EXA_REASON_MEMBER,
    NGX_EXA_REASON_NOT_MEMBER,
    NGX_EXA_REASON_INTERNAL,
    NGX_EXA_REASON_UNRESTRICTED,
    NGX_EXA_REASON_NO_CREDENTIAL,
    NGX_EXA_REASON_HANDSHAKE,
    NGX_EXA_REASON_UNIDENTIFIED,
    NGX_EXA_REASON_FOREIGN_DOMAIN,
    NGX_EXA_REASON_LIST_UNAVAILABLE,
    NGX_EXA_REASON_PATH_CONFUSION,
    NGX_EXA_REASON_REVOKED,
    NGX_EXA_REASON_N
} ngx_exa_reason_e;


/* the fact a decision waits for */

typedef enum {
    NGX_EXA_NEED_NOTHING = 0,
    NGX_EXA_NEED_INTERNAL,           /* facts.internal */
    NGX_EXA_NEED_CREDENTIAL,         /* facts.header */
    NGX_EXA_NEED_USER,               /* facts.user */
    NGX_EXA_NEED_LIST                /* facts.list */
} ngx_exa_need_e;


/* the identity of the client connection (NTLM, Negotiate), known first */

typedef enum {
    NGX_EXA_IDENTITY_NONE = 0,       /* none the backend accepted */
    NGX_EXA_IDENTITY_USER,           /* accepted, and it names a user */
    NGX_EXA_IDENTITY_UNREADABLE,     /* accepted; no name can be read */
    NGX_EXA_IDENTITY_CLEARED,        /* then a new handshake was refused */
    NGX_EXA_IDENTITY_REVOKED         /* its user left the list */
} ngx_exa_identity_e;


/* whether the client's address is internal */

typedef enum {
    NGX_EXA_INTERNAL_UNKNOWN = 0,
    NGX_EXA_INTERNAL_NO,
    NGX_EXA_INTERNAL_YES
} ngx_exa_internal_e;


/* the Authorization header */

typedef enum {
    NGX_EXA_HEADER_UNKNOWN = 0,      /* not looked at yet */
    NGX_EXA_HEADER_NONE,             /* there is none */
    NGX_EXA_HEADER_USER,             /* it names a user */
    NGX_EXA_HEADER_HANDSHAKE,        /* a handshake leg naming nobody yet */
    NGX_EXA_HEADER_UNIDENTIFIED      /* no name can be read from it */
} ngx_exa_header_e;


/* the user's name, normalised to a key (ngx_exa_name_resolve()) */

typedef enum {
    NGX_EXA_USER_UNKNOWN = 0,
    NGX_EXA_USER_OK,
    NGX_EXA_USER_FOREIGN,            /* of a domain not ours */
    NGX_EXA_USER_INVALID             /* not a name */
} ngx_exa_user_e;


/* the list's answer */

typedef enum {
    NGX_EXA_LIST_UNKNOWN = 0,
    NGX_EXA_LIST_MEMBER,
    NGX_EXA_LIST_NOT_MEMBER,
    NGX_EXA_LIST_UNAVAILABLE         /* never loaded */
} ngx_exa_list_e;


typedef struct {
    /* known from the start: the configuration, the classification */
    unsigned               audit:1;            /* exchange_access audit */
    unsigned               restricted:1;       /* the protocol has a list */
    unsigned               confused:1;         /* path confusion */
    unsigned               confusion_deny:1;   /* ..._path_confusion deny */
    unsigned               unidentified_deny:1;  /* ..._unidentified deny */
    int                    identity;           /* ngx_exa_identity_e */

    /* found out when needed */
    int                    internal;           /* ngx_exa_internal_e */
    int                    header;             /* ngx_exa_header_e */
    int                    user;               /* ngx_exa_user_e */
    int                    list;               /* ngx_exa_list_e */
} ngx_exa_facts_t;


typedef struct {
    int                    decision;           /* ngx_exa_decision_e */
    int                    reason;             /* ngx_exa_reason_e */
    int                    need;               /* ngx_exa_need_e */
} ngx_exa_verdict_t;


int ngx_exa_decide(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_DECIDE_H_INCLUDED_ */
