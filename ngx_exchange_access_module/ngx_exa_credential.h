
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_CREDENTIAL_H_INCLUDED_
#define _NGX_EXA_CREDENTIAL_H_INCLUDED_


/*
 * Credential decoders: read the user name out of an Authorization header
 * value without verifying anything.  No nginx dependency; every length
 * and offset read from the wire is checked.
 */


#include <stddef.h>
#include <stdint.h>

#include "ngx_exa_table.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_EXA_NAME_MAX        256      /* bytes of UTF-8 per name part */
#define NGX_EXA_TOKEN_MAX       65536    /* bytes of an encoded credential */
#define NGX_EXA_NTLM_MAX        4096     /* bytes of a decoded NTLM message */


typedef enum {
    NGX_EXA_AUTH_NONE = 0,
    NGX_EXA_AUTH_BASIC,
    NGX_EXA_AUTH_NTLM,
    NGX_EXA_AUTH_NEGOTIATE,
    NGX_EXA_AUTH_BEARER,
    NGX_EXA_AUTH_OTHER,
    NGX_EXA_AUTH_N
} ngx_exa_auth_scheme_e;


/* what a scheme is: ngx_exa_scheme_flags() */
#define NGX_EXA_SCHEME_CONNECTION  0x01  /* authenticates the connection */
#define NGX_EXA_SCHEME_SECRET      0x02  /* the decoded token has a password */


typedef enum {
    NGX_EXA_CRED_USER = 0,       /* a user name was read */
    NGX_EXA_CRED_HANDSHAKE,      /* a handshake leg that names nobody yet */
    NGX_EXA_CRED_UNIDENTIFIED    /* no name can be read: policy decides */
} ngx_exa_cred_status_e;


typedef struct {
    int                    scheme;      /* ngx_exa_auth_scheme_e */
    int                    status;      /* ngx_exa_cred_status_e */
    const char            *detail;      /* static text for the log */
    size_t                 domain_len;
    size_t                 user_len;
    unsigned char          domain[NGX_EXA_NAME_MAX];
    unsigned char          user[NGX_EXA_NAME_MAX];
} ngx_exa_cred_t;


/* which JWT claims name the user, in order; none: upn, unique_name,
 * preferred_username, email */
typedef struct {
    const ngx_exa_str_t   *claims;
    size_t                 nclaims;
} ngx_exa_cred_conf_t;


/*
 * The three bytes of the quad of characters at s, in the low 24 bits, or
 * NGX_EXA_B64_QUAD_BAD set for a character outside the standard alphabet
 */
#define NGX_EXA_B64_QUAD_BAD    0x80000000u

#define ngx_exa_base64_quad(s)                                               \
    (ngx_exa_b64_quads[0][(s)[0]] | ngx_exa_b64_quads[1][(s)[1]]             \
     | ngx_exa_b64_quads[2][(s)[2]] | ngx_exa_b64_quads[3][(s)[3]])

extern const uint32_t  ngx_exa_b64_quads[4][256];

/* whether ngx_exa_base64_check() reads 32 characters at once (AVX2) */
extern int  ngx_exa_base64_wide;


size_t ngx_exa_base64_decode(unsigned char *dst, const unsigned char *src,
    size_t len, int url);
size_t ngx_exa_base64_check(const unsigned char *src, size_t len,
    size_t *chars);
void ngx_exa_base64_range(unsigned char *dst, const unsigned char *src,
    size_t chars, size_t from, size_t to);
size_t ngx_exa_base64_prefix(unsigned char *dst, size_t size,
    const unsigned char *src, size_t len, unsigned char stop,
    int *printable);
int ngx_exa_credential_parse(const ngx_exa_cred_conf_t *conf,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred);
int ngx_exa_credential_parse_as(const ngx_exa_cred_conf_t *conf, int scheme,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred);
int ngx_exa_credential_parse_fast(int scheme, const unsigned char *value,
    size_t len, ngx_exa_cred_t *cred);
int ngx_exa_credential_parse_full(const ngx_exa_cred_conf_t *conf,
    const unsigned char *value, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred);
int ngx_exa_ntlm_parse(const unsigned char *msg, size_t len,
    ngx_exa_cred_t *cred);
int ngx_exa_spnego_parse(const unsigned char *tok, size_t len,
    ngx_exa_cred_t *cred);
int ngx_exa_jwt_parse(const ngx_exa_cred_conf_t *conf,
    const unsigned char *tok, size_t len, unsigned char *work,
    size_t worklen, ngx_exa_cred_t *cred);
int ngx_exa_scheme_of(const unsigned char *value, size_t len);
const char *ngx_exa_scheme_name(int scheme);
unsigned ngx_exa_scheme_flags(int scheme);


NGX_EXA_HIDDEN_END


#endif /* _NGX_EXA_CREDENTIAL_H_INCLUDED_ */
