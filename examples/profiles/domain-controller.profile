# Domain controller: Active Directory replication (NTDS), Netlogon and the File Replication Service on
# static ports (KB 224196, KB 319553), so that a firewall between sites needs TCP 135 plus these three.
#
#   hiveport apply --check domain-controller.profile SYSTEM
#
# See hiveport-profile(5) for the format.
controlset = all

ntds     = 5005   # replication, SamRPC, LSARPC, DRS; also the global catalog's NSPI
netlogon = 5006   # must differ from ntds (event 5809)
ntfrs    = 5007   # must differ from ntds; 0 would mean dynamic
