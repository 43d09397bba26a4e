"""Scale-out: the cluster endpoints, the service installer, the local cluster and the compose file."""
