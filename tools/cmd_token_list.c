/*
 * cmd_token_list.c - "litehsm token list" (every slot and its token) and
 * "litehsm token info" (one token in detail).
 *
 * Both only read: C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo,
 * C_GetMechanismList and, for "info", C_FindObjects in a read-only session
 * (after a user login with --login, else public objects only).  A token
 * whose CKF_TOKEN_INITIALIZED is clear is the free slot, shown as "free".
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/p11.h"

#include <stdlib.h>
#include <string.h>

/* ---- token list -------------------------------------------------------- */

static const lh_cmd list_cmd = {
	.name = "token list",
	.summary = "List every slot of the module with its token: label, serial,\n"
	           "slot id, and the state of the user and SO PINs (not set, ok,\n"
	           "count low, final try, locked).  The free slot, where 'token\n"
	           "init' creates the next token, is shown as \"free\".",
	.globals = 0,
	.min_args = 0,
	.max_args = 0,
};

static void
list_json (lh_p11 *p, const lh_p11_slot *slots, size_t n)
{
	lh_json j;
	char *uri;
	size_t i;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "module", p->path);
	lh_json_array_begin (&j, "slots");
	for (i = 0; i < n; i++) {
		const lh_p11_slot *s = &slots[i];

		lh_json_object_begin (&j, NULL);
		lh_json_uint (&j, "slot_id", s->id);
		lh_json_str (&j, "description", s->description);
		lh_json_bool (&j, "token_present", s->present);
		lh_json_bool (&j, "free", s->present && !s->initialized);
		if (s->present && s->initialized) {
			lh_json_str (&j, "label", s->label);
			lh_json_str (&j, "serial", s->serial);
			lh_json_bool (&j, "initialized", true);
			lh_json_str (&j, "user_pin",
			             lh_p11_pin_state (&s->token, false));
			lh_json_str (&j, "so_pin", lh_p11_pin_state (&s->token, true));
			uri = lh_uri_for_token (&s->token);
			lh_json_str (&j, "uri", uri);
			free (uri);
		} else {
			lh_json_bool (&j, "initialized", false);
		}
		lh_json_object_end (&j);
	}
	lh_json_array_end (&j);
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
list_human (const lh_p11_slot *slots, size_t n)
{
	int w = 5;              /* width of the LABEL column */
	size_t i;

	for (i = 0; i < n; i++)
		if (slots[i].initialized && (int)strlen (slots[i].label) > w)
			w = (int)strlen (slots[i].label);
	printf ("%-10s  %-*s  %-16s  %-9s  %s\n", "SLOT", w, "LABEL", "SERIAL",
	        "USER PIN", "SO PIN");
	for (i = 0; i < n; i++) {
		const lh_p11_slot *s = &slots[i];

		if (!s->present)
			printf ("%-10lu  (no token)\n", (unsigned long)s->id);
		else if (!s->initialized)
			printf ("%-10lu  free\n", (unsigned long)s->id);
		else
			printf ("%-10lu  %-*s  %-16s  %-9s  %s\n",
			        (unsigned long)s->id, w, s->label, s->serial,
			        lh_p11_pin_state (&s->token, false),
			        lh_p11_pin_state (&s->token, true));
	}
}

int
lh_token_list (lh_tool *t, int argc, char **argv)
{
	lh_p11_slot *slots = NULL;
	lh_p11 p;
	size_t n;
	int rc;

	if ((rc = lh_args_parse (t, &list_cmd, argc, argv, NULL, NULL)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_p11_slots (t, &p, &slots, &n)) != LH_EXIT_OK)
		goto out;
	if (t->json)
		list_json (&p, slots, n);
	else
		list_human (slots, n);
	rc = LH_EXIT_OK;
out:
	free (slots);
	lh_p11_close (&p);
	return rc;
}

/* ---- token info --------------------------------------------------------------- */

enum { OPT_LOGIN = LH_OPT_CMD };

static const lh_opt info_opts[] = {
	{ "login", NULL, OPT_LOGIN, "log in as the user to count private "
	  "objects too" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd info_cmd = {
	.name = "token info",
	.summary = "Show one token: its URI, slot, serial, manufacturer, model,\n"
	           "flags, PIN states and limits, sessions, versions, the number\n"
	           "of mechanisms, and the number of objects visible (public\n"
	           "objects, or all of them after a user login with --login).",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = info_opts,
};

static int
info_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;    /* OPT_LOGIN */
	return LH_CONTINUE;
}

static const struct {
	CK_FLAGS flag;
	const char *name;
} token_flags[] = {
#define F(x) { x, #x }
	F (CKF_RNG), F (CKF_WRITE_PROTECTED), F (CKF_LOGIN_REQUIRED),
	F (CKF_USER_PIN_INITIALIZED), F (CKF_RESTORE_KEY_NOT_NEEDED),
	F (CKF_CLOCK_ON_TOKEN), F (CKF_PROTECTED_AUTHENTICATION_PATH),
	F (CKF_DUAL_CRYPTO_OPERATIONS), F (CKF_TOKEN_INITIALIZED),
	F (CKF_SECONDARY_AUTHENTICATION), F (CKF_USER_PIN_COUNT_LOW),
	F (CKF_USER_PIN_FINAL_TRY), F (CKF_USER_PIN_LOCKED),
	F (CKF_USER_PIN_TO_BE_CHANGED), F (CKF_SO_PIN_COUNT_LOW),
	F (CKF_SO_PIN_FINAL_TRY), F (CKF_SO_PIN_LOCKED),
	F (CKF_SO_PIN_TO_BE_CHANGED),
#undef F
};

#define NFLAGS (sizeof token_flags / sizeof token_flags[0])

/* What info reports beyond the token info itself. */
typedef struct {
	CK_ULONG mechanisms;
	CK_ULONG objects;
	bool logged_in;
} info_extra;

/* Count the objects a session sees (all classes, token and session). */
static int
count_objects (lh_tool *t, lh_p11 *p, CK_SESSION_HANDLE h,
               const lh_p11_slot *s, CK_ULONG *count)
{
	CK_OBJECT_HANDLE batch[64];
	CK_ULONG got;
	CK_RV rv;

	*count = 0;
	if ((rv = p->f->C_FindObjectsInit (h, NULL, 0)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    s->label);
	do {
		rv = p->f->C_FindObjects (h, batch, 64, &got);
		if (rv == CKR_OK)
			*count += got;
	} while (rv == CKR_OK && got > 0);
	p->f->C_FindObjectsFinal (h);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    s->label);
	return LH_EXIT_OK;
}

/*
 * A CK_ULONG of token info as text: "unknown", the number, or for a
 * maximum (max true) "unlimited" when it is CK_EFFECTIVELY_INFINITE (0).
 */
static const char *
ulong_text (CK_ULONG v, bool max, char *buf, size_t size)
{
	if (max && v == CK_EFFECTIVELY_INFINITE)
		return "unlimited";
	if (v == CK_UNAVAILABLE_INFORMATION)
		return "unknown";
	snprintf (buf, size, "%lu", (unsigned long)v);
	return buf;
}

static void
json_ulong (lh_json *j, const char *key, CK_ULONG v, bool max)
{
	if (max && v == CK_EFFECTIVELY_INFINITE)
		lh_json_str (j, key, "unlimited");
	else if (v == CK_UNAVAILABLE_INFORMATION)
		lh_json_null (j, key);
	else
		lh_json_uint (j, key, v);
}

static void
info_json (const lh_p11_slot *s, const info_extra *x)
{
	const CK_TOKEN_INFO *ti = &s->token;
	char ver[16], *uri;
	lh_json j;
	size_t i;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "label", s->label);
	lh_json_str (&j, "serial", s->serial);
	uri = lh_uri_for_token (ti);
	lh_json_str (&j, "uri", uri);
	free (uri);
	lh_json_uint (&j, "slot_id", s->id);
	lh_json_str (&j, "slot_description", s->description);
	lh_json_str (&j, "manufacturer", s->manufacturer);
	lh_json_str (&j, "model", s->model);
	lh_json_bool (&j, "initialized", s->initialized);
	lh_json_str (&j, "user_pin", lh_p11_pin_state (ti, false));
	lh_json_str (&j, "so_pin", lh_p11_pin_state (ti, true));
	lh_json_array_begin (&j, "flags");
	for (i = 0; i < NFLAGS; i++)
		if (ti->flags & token_flags[i].flag)
			lh_json_str (&j, NULL, token_flags[i].name);
	lh_json_array_end (&j);
	json_ulong (&j, "sessions", ti->ulSessionCount, false);
	json_ulong (&j, "rw_sessions", ti->ulRwSessionCount, false);
	json_ulong (&j, "max_sessions", ti->ulMaxSessionCount, true);
	json_ulong (&j, "max_rw_sessions", ti->ulMaxRwSessionCount,
	            true);
	lh_json_uint (&j, "min_pin_len", ti->ulMinPinLen);
	lh_json_uint (&j, "max_pin_len", ti->ulMaxPinLen);
	json_ulong (&j, "total_public_memory", ti->ulTotalPublicMemory, false);
	json_ulong (&j, "free_public_memory", ti->ulFreePublicMemory, false);
	json_ulong (&j, "total_private_memory", ti->ulTotalPrivateMemory, false);
	json_ulong (&j, "free_private_memory", ti->ulFreePrivateMemory, false);
	snprintf (ver, sizeof ver, "%u.%u", ti->hardwareVersion.major,
	          ti->hardwareVersion.minor);
	lh_json_str (&j, "hardware_version", ver);
	snprintf (ver, sizeof ver, "%u.%u", ti->firmwareVersion.major,
	          ti->firmwareVersion.minor);
	lh_json_str (&j, "firmware_version", ver);
	lh_json_uint (&j, "mechanisms", x->mechanisms);
	lh_json_uint (&j, "objects", x->objects);
	lh_json_str (&j, "objects_seen_as", x->logged_in ? "user" : "public");
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
info_human (const lh_p11_slot *s, const info_extra *x)
{
	const CK_TOKEN_INFO *ti = &s->token;
	char a[24], b[24], *uri;
	const char *sep = "";
	size_t i;

	uri = lh_uri_for_token (ti);
	printf ("Token \"%s\"\n", s->label);
	printf ("  URI:               %s\n", uri ? uri : "?");
	free (uri);
	printf ("  slot:              %lu (%s)\n", (unsigned long)s->id,
	        s->description);
	printf ("  serial:            %s\n", s->serial);
	printf ("  manufacturer:      %s\n", s->manufacturer);
	printf ("  model:             %s\n", s->model);
	printf ("  initialized:       %s\n", s->initialized ? "yes" : "no");
	printf ("  user PIN:          %s\n", lh_p11_pin_state (ti, false));
	printf ("  SO PIN:            %s\n", lh_p11_pin_state (ti, true));
	printf ("  flags:             ");
	for (i = 0; i < NFLAGS; i++) {
		if (ti->flags & token_flags[i].flag) {
			printf ("%s%s", sep, token_flags[i].name);
			sep = " ";
		}
	}
	printf ("\n  sessions:          %s open (max %s), ",
	        ulong_text (ti->ulSessionCount, false, a, sizeof a),
	        ulong_text (ti->ulMaxSessionCount, true, b, sizeof b));
	printf ("%s read-write ", ulong_text (ti->ulRwSessionCount, false, a,
	                                      sizeof a));
	printf ("(max %s)\n", ulong_text (ti->ulMaxRwSessionCount, true, b,
	        sizeof b));
	printf ("  PIN length:        %lu to %lu\n",
	        (unsigned long)ti->ulMinPinLen, (unsigned long)ti->ulMaxPinLen);
	printf ("  public memory:     %s total, ",
	        ulong_text (ti->ulTotalPublicMemory, false, a, sizeof a));
	printf ("%s free\n", ulong_text (ti->ulFreePublicMemory, false, b,
	                                sizeof b));
	printf ("  private memory:    %s total, ",
	        ulong_text (ti->ulTotalPrivateMemory, false, a, sizeof a));
	printf ("%s free\n", ulong_text (ti->ulFreePrivateMemory, false, b,
	                                sizeof b));
	printf ("  hardware version:  %u.%u\n", ti->hardwareVersion.major,
	        ti->hardwareVersion.minor);
	printf ("  firmware version:  %u.%u\n", ti->firmwareVersion.major,
	        ti->firmwareVersion.minor);
	printf ("  mechanisms:        %lu\n", (unsigned long)x->mechanisms);
	printf ("  objects:           %lu (%s)\n", (unsigned long)x->objects,
	        x->logged_in ? "all, as the user" : "public only; --login "
	        "counts private ones too");
}

int
lh_token_info (lh_tool *t, int argc, char **argv)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	info_extra x = { 0, 0, false };
	bool login = false;
	lh_p11_slot s;
	lh_p11 p;
	CK_RV rv;
	int rc;

	if ((rc = lh_args_parse (t, &info_cmd, argc, argv, info_opt, &login)) !=
	    LH_CONTINUE)
		return rc;
	if (!login && (t->given & LH_G_PIN))
		return lh_error (t, LH_EXIT_USAGE, "add --login to log in with it",
		                 "a user PIN source was given without --login");
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK)
		goto out;
	if ((rv = p.f->C_GetMechanismList (s.id, NULL, &x.mechanisms)) != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot list the mechanisms of token "
		                  "\"%s\"", s.label);
		goto out;
	}
	if ((rc = lh_p11_session (t, &p, &s, false, &h)) != LH_EXIT_OK)
		goto out;
	if (login && (rc = lh_p11_login (t, &p, h, &s, CKU_USER, LH_PIN_USER)) !=
	    LH_EXIT_OK)
		goto out;
	x.logged_in = login;
	if ((rc = count_objects (t, &p, h, &s, &x.objects)) != LH_EXIT_OK)
		goto out;
	/* Re-read the token info: it now counts our session. */
	if ((rc = lh_p11_slot_get (t, &p, s.id, &s)) != LH_EXIT_OK)
		goto out;
	if (t->json)
		info_json (&s, &x);
	else
		info_human (&s, &x);
	rc = LH_EXIT_OK;
out:
	lh_p11_close (&p);
	return rc;
}
