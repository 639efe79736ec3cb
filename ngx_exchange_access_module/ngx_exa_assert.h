
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_ASSERT_H_INCLUDED_
#define _NGX_EXA_ASSERT_H_INCLUDED_


/*
 * A check the compiler makes: a table of names that does not have one
 * entry per value of its enum does not build.  Used at file scope, next
 * to the table it checks:
 *
 *     NGX_EXA_ASSERT(protocol_names,
 *                    NGX_EXA_NELTS(ngx_exa_protocol_names)
 *                    == NGX_EXA_PROTO_N);
 */

#define NGX_EXA_NELTS(a)        (sizeof(a) / sizeof((a)[0]))

#define NGX_EXA_ASSERT(name, cond)                                           \
    typedef char  ngx_exa_assert_##name[(cond) ? 1 : -1]


#endif /* _NGX_EXA_ASSERT_H_INCLUDED_ */
