/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* `bulkhead-cni install` (cni_install.c): argv[0] is "install". Returns
 * the exit status; messages go to stderr. */
#ifndef BULKHEAD_CNI_INSTALL_H
#define BULKHEAD_CNI_INSTALL_H

int cni_install_main(int argc, char **argv);

#endif /* BULKHEAD_CNI_INSTALL_H */
