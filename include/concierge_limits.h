/*
 * Every bound on data that a peer, a file or a user supplies lives here, so a
 * reviewer can see all maxima at once.  Values are bytes unless named
 * otherwise.  Tighter pre-authentication limits come with the relay core.
 */
#ifndef CONCIERGE_LIMITS_H
#define CONCIERGE_LIMITS_H

/* Configuration file */
#define CFG_MAX_FILE_BYTES     (64 * 1024) /* a config larger than this is refused */
#define CFG_MAX_LINE           1024        /* one line, not counting its newline */
#define CFG_MAX_VALUE          512         /* one value after trimming */
#define CFG_MAX_PATH           512         /* any path after resolution */
#define CFG_MAX_HOSTNAME       253         /* DNS name limit */
#define CFG_MAX_CODE_TTL_S     86400       /* a session code lives at most a day */

/* Identifiers */
#define TICKET_ID_MAX          64          /* longest ticket id accepted */
#define USER_NAME_MAX          32          /* like POSIX login names */
#define TICKET_TITLE_MAX       256
#define REQUESTER_MAX          128

/* SSH public keys read from files given to `concierge user key add` */
#define PUBKEY_FILE_MAX        (16 * 1024)

/* Audit log */
#define AUDIT_FIELD_MAX        4096        /* actor, action, object, details */

/* RFB client -> server filter (server/rfb_filter.c) */
#define RFB_MAX_ENCODINGS      256         /* SetEncodings entries */
#define RFB_MAX_CUT_TEXT       (256 * 1024) /* ClientCutText payload */
#define RFB_FILTER_MAX_MESSAGE (8 + RFB_MAX_CUT_TEXT) /* largest message kept whole */

#endif
