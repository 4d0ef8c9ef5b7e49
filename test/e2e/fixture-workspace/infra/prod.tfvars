db_password = "PRESAGE_E2E_PLANTED_TF"
