# Exchange 2003 front-end server that is also a domain controller and global catalog (the small-site
# layout where the RPC over HTTP front end answers directory lookups itself).  The System Attendant and
# the directory ports are pinned; a front end holds no mailbox store, so the store's ports must be absent.
#
#   hiveport apply --check exchange2003-frontend-dc.profile SYSTEM
#
# See hiveport-profile(5) for the format.
controlset = all

# System Attendant: RFR, DSProxy NSPI, and their RPC over HTTP ports.
exchange-sa-rfr          = 5001
exchange-sa-nspi         = 5002
exchange-sa-http         = 6002
exchange-sa-rpchttp-nspi = 6004

# Domain controller (KB 224196, KB 319553): NTDS replication and the global catalog's NSPI, Netlogon,
# and the File Replication Service.  Netlogon and NTFRS must not share the NTDS port.
ntds     = 5005
netlogon = 5006
ntfrs    = 5007

# No mailbox store and no Site Replication Service on a front end.
unset exchange-is
unset exchange-is-rpchttp
unset exchange-srs
