from . import address_filter
from . import sender_policy
