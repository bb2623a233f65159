"""The SensorThings MQTT extension (clause 14): create Observations, receive updates."""
