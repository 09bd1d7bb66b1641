from . import mail_sender_check
