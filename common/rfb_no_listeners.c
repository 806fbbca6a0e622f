/* See rfb_no_listeners.h. */
#include "rfb_no_listeners.h"

void rfb_screen_without_listeners(rfbScreenInfoPtr screen)
{
	screen->autoPort = FALSE;
	screen->port = 0;
	screen->ipv6port = 0;
	screen->httpPort = 0;
	screen->http6Port = 0;
	screen->httpDir = NULL;
	screen->udpPort = 0;
	screen->inetdSock = RFB_INVALID_SOCKET;
	/* Everyone shares the screen; the relay forces the flag too. */
	screen->alwaysShared = TRUE;
	screen->neverShared = FALSE;
}
