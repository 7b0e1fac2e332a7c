"""CRM report files in (Salesforce, HubSpot; .xlsx or .csv): opportunities, quotas and leads out."""
