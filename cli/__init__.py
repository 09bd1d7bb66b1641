from . import mailgate
