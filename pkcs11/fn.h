/*
 * fn.h - prototypes of the entry points that the p11-kit 2.40 header does
 * not declare: the 3.0 functions and our per-interface variants.
 */
#ifndef LH_FN_H
#define LH_FN_H

#include "pkcs11/lh.h"

CK_RV lh_C_GetInfo_30 (CK_INFO_PTR info);

CK_RV C_GetInterfaceList (CK_INTERFACE *list, CK_ULONG *count);
CK_RV C_GetInterface (CK_UTF8CHAR *name, CK_VERSION *version,
                      CK_INTERFACE **iface, CK_FLAGS flags);
CK_RV lh_C_LoginUser (CK_SESSION_HANDLE hs, CK_USER_TYPE user, unsigned char *pin,
                      CK_ULONG pin_len, unsigned char *name, CK_ULONG name_len);
CK_RV lh_C_SessionCancel (CK_SESSION_HANDLE hs, CK_FLAGS flags);
CK_RV lh_C_MessageInit (CK_SESSION_HANDLE hs, CK_MECHANISM *m, CK_OBJECT_HANDLE k);
CK_RV lh_C_CryptMessage (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl,
                         unsigned char *ad, CK_ULONG adl, unsigned char *in,
                         CK_ULONG inl, unsigned char *out, CK_ULONG *outl);
CK_RV lh_C_CryptMessageBegin (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl,
                              unsigned char *ad, CK_ULONG adl);
CK_RV lh_C_CryptMessageNext (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl,
                             unsigned char *in, CK_ULONG inl, unsigned char *out,
                             CK_ULONG *outl, CK_FLAGS flags);
CK_RV lh_C_MessageFinal (CK_SESSION_HANDLE hs);
CK_RV lh_C_SignMessage (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl,
                        unsigned char *d, CK_ULONG dl, unsigned char *sig,
                        CK_ULONG *sigl);
CK_RV lh_C_SignMessageBegin (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl);
CK_RV lh_C_VerifyMessage (CK_SESSION_HANDLE hs, void *p, CK_ULONG pl,
                          unsigned char *d, CK_ULONG dl, unsigned char *sig,
                          CK_ULONG sigl);

#endif
