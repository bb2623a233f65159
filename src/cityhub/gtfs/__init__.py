"""GTFS timetables and GTFS-Realtime trip updates: loading them, and departures from them.

``feed`` reads a feed zip, ``load`` replaces a feed's timetable in the store, ``realtime``
keeps the latest TripUpdates, ``departures`` answers "what leaves this stop next", ``api``
serves that as ``GET /departures``.
"""
