"""Clinical rules as versioned data: instrument scoring, safety alerts, monitoring
schedules. Rules produce due items and alerts for the coordination board; they never
block care silently."""
