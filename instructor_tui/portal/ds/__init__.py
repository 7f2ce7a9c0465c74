"""The Démarches Simplifiées connector (GraphQL API v2): documents, mapping, rate limiter, connector."""

from instructor_tui.portal.ds.connector import DemarchesSimplifieesConnector

__all__ = ["DemarchesSimplifieesConnector"]
