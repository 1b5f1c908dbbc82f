"""The web board: server-rendered pages over the desk for the manager (open cases by SLA
risk, engineer load, today's appointments, the last 30 days), customer service (intake and
the queue to assign) and the engineer on a phone (each step a button, the customer's
signature drawn on the screen). A staff member signs in with their API token, kept in an
HttpOnly, SameSite=Strict cookie; every action is the desk's, with its permissions."""

from aftersales.http.board.routes import board_routes

__all__ = ["board_routes"]
