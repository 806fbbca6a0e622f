/* Version of every Concierge program; bumped on release. */
#ifndef CONCIERGE_VERSION_H
#define CONCIERGE_VERSION_H
#define CONCIERGE_VERSION "0.1.0"
#endif
