/* ctlendpoint.h -- hem's control endpoint when nothing says otherwise, for hem, hookctl and --wait (no library needed). */
#ifndef HB_CTLENDPOINT_H
#define HB_CTLENDPOINT_H

#define HB_CTL_DEFAULT_ENDPOINT "ipc:///run/hookbus/hem.sock"

#endif
