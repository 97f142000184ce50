"""OCI registry (distribution spec 1.1 referrers API): provenance attestations of image digests."""

from connectors.oci.connector import OciConnector
from connectors.oci.options import OciOptions

__all__ = ["OciConnector", "OciOptions"]
