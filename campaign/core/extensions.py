"""Flask extensions, created unbound and initialised in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from campaign.core.db import Base


class ApiWithoutGlobalErrors(Api):
    """flask-smorest's Api, minus its app-wide JSON error handler.

    Pages answer errors in HTML; ``app.py`` hands only /api/ paths to
    ``handle_http_exception`` for JSON.
    """

    def _register_error_handlers(self) -> None:
        pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
api = ApiWithoutGlobalErrors()
