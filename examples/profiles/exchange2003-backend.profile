# Exchange 2003 back-end (mailbox) server: every Exchange RPC port pinned, as KB 270836 describes, plus
# the RPC over HTTP ports Exchange 2003 Setup uses (6001, 6002, 6004).  Open TCP 135 and these ports
# between the clients (or the RPC proxy) and this server.
#
#   hiveport apply --check exchange2003-backend.profile SYSTEM    does the image match?
#   hiveport apply exchange2003-backend.profile SYSTEM...         make it match
#
# See hiveport-profile(5) for the format.

# Every control set, so that Last Known Good boots with the same ports.
controlset = all

# System Attendant: the RFR interface and the directory NSPI proxy (DSProxy).
exchange-sa-rfr  = 5001
exchange-sa-nspi = 5002
# Information Store and Site Replication Service.
exchange-is      = 5003
exchange-srs     = 5004

# RPC over HTTP (the ports Exchange 2003 Setup writes).
exchange-is-rpchttp      = 6001
exchange-sa-http         = 6002
exchange-sa-rpchttp-nspi = 6004

# The Exchange 5.5 directory does not run here: no stale port from an upgrade.
unset exchange55-ds

# A value the catalog lacks is written SERVICE\SUBKEY:VALUE NAME, relative to ControlSetNNN\Services,
# for instance the X.400 listening port of the MTA (KB 161931), if this server hosts X.400 connectors:
# MSExchangeMTA\Parameters:RFC1006 Port Number = 102
