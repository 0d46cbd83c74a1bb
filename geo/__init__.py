"""Places and distances, offline: coordinates, the embedded Cà Mau geography, a gazetteer
geocoder, post offices' service areas and travel-time matrices.

``geo`` imports nothing else of buuta and nothing of the web stack or the database.
"""

from geo.areas import OutsideServiceArea as OutsideServiceArea
from geo.areas import ServiceArea as ServiceArea
from geo.areas import ServiceAreas as ServiceAreas
from geo.areas import WardIndex as WardIndex
from geo.areas import WardMatch as WardMatch
from geo.areas import district_service_areas as district_service_areas
from geo.areas import locate as locate
from geo.coords import LatLon as LatLon
from geo.coords import parse_latlon as parse_latlon
from geo.gazetteer import Gazetteer as Gazetteer
from geo.gazetteer import make_geocoder as make_geocoder
from geo.gazetteer import normalize as normalize
from geo.geography import Commune as Commune
from geo.geography import District as District
from geo.geography import Geography as Geography
from geo.geography import Ward as Ward
from geo.geography import camau as camau
from geo.travel import DEFAULT_MODE_PARAMS as DEFAULT_MODE_PARAMS
from geo.travel import GreatCircleTravel as GreatCircleTravel
from geo.travel import MatrixTravel as MatrixTravel
from geo.travel import ModeParams as ModeParams
from geo.travel import OsrmTravel as OsrmTravel
from geo.travel import TravelMatrix as TravelMatrix
from geo.travel import TravelMode as TravelMode
from geo.travel import TravelModel as TravelModel
from geo.travel import TravelServiceError as TravelServiceError
from geo.travel import parse_mode as parse_mode
