from . import test_address_filter
from . import test_outgoing
from . import test_smtp_real
from . import test_incoming
from . import test_concurrency
from . import test_settings
from . import test_tour
from . import test_fuzz
