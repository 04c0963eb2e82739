"""Traffic for every view: recorded history written fast (`data`), and live requests (`traffic`)."""
