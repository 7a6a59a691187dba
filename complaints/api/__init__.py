"""The JSON API (/api/v1/): the same rules and services as the web interface, over tokens."""
