"use strict";
const form = document.getElementById("upload");
upload(form, {Authorization: "Bearer " + form.dataset.token}, null);
